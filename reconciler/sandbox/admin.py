"""Admin endpoints under ``/_sandbox/``: seed and read lists, faults, statistics, reset, and
the changes Klaviyo makes by itself (unsubscribes, deletions, merges; see ``admin_profiles``).

No authentication, but only loopback clients may call them. When the sandbox has several
accounts, list endpoints take ``?account=KEY`` (or ``"account"`` in a seed body); the default is
the first key. A seed body may also ask for ``"without_email": N`` new members that have no
email (SMS-only profiles: their email is stored empty and never matched).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox.admin_common import (
    AdminError,
    account_of,
    emails_of,
    existing_list,
    read_json,
)
from reconciler.sandbox.admin_profiles import profile_admin, remove_suppressed
from reconciler.sandbox.clock import utc_now_us
from reconciler.sandbox.faults import FaultSettings
from reconciler.sandbox.members import MemberList
from reconciler.sandbox.state import SandboxState
from reconciler.sandbox.store import Account

_LIST_PATH = re.compile(r"^/_sandbox/lists/(?P<id>[^/]+)/members$")
_REMOVE_SUPPRESSED = re.compile(r"^/_sandbox/lists/(?P<id>[^/]+)/remove-suppressed$")
_LIST_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_LOOPBACK = ("127.", "::1", "localhost", "testclient")


async def handle_admin(sandbox: SandboxState, request: Request, path: str) -> Response:
    try:
        _require_loopback(request)
        return await _dispatch(sandbox, request, path)
    except AdminError as error:
        return JSONResponse({"error": str(error)}, status_code=error.status)


async def _dispatch(sandbox: SandboxState, request: Request, path: str) -> Response:
    method = request.method
    found = _LIST_PATH.match(path)
    if found is not None:
        return await _members(sandbox, request, found["id"])
    found = _REMOVE_SUPPRESSED.match(path)
    if found is not None and method == "POST":
        body = await read_json(request)
        with sandbox.store.lock:
            account = account_of(
                sandbox, body.get("account") or request.query_params.get("account")
            )
            target = existing_list(account, found["id"])
            return JSONResponse(remove_suppressed(account, target))
    if path.startswith("/_sandbox/profiles"):
        return await profile_admin(sandbox, request, path)
    if path == "/_sandbox/faults" and method == "PUT":
        settings = _fault_settings(await read_json(request))
        sandbox.faults.replace(settings)
        return JSONResponse(settings.model_dump(mode="json"))
    if path == "/_sandbox/faults" and method == "GET":
        return JSONResponse(sandbox.faults.settings.model_dump(mode="json"))
    if path == "/_sandbox/stats" and method == "GET":
        return JSONResponse(sandbox.stats.snapshot(sandbox.faults))
    if path == "/_sandbox/reset" and method == "POST":
        sandbox.reset()
        return JSONResponse({"reset": True})
    if path == "/_sandbox/health" and method == "GET":
        return JSONResponse({"ok": True, "time_scale": sandbox.config.time_scale})
    raise AdminError(404, f"no admin endpoint {method} {path}")


async def _members(sandbox: SandboxState, request: Request, list_id: str) -> Response:
    method = request.method
    if method == "GET":
        with sandbox.store.lock:
            account = account_of(sandbox, request.query_params.get("account"))
            target = existing_list(account, list_id)
            members = [account.profiles.emails[index] for index in target.profiles()]
        emails = sorted(e for e in members if e)
        return JSONResponse(
            {"emails": emails, "count": len(emails), "without_email": len(members) - len(emails)}
        )
    if method not in ("POST", "DELETE"):
        raise AdminError(405, f"{method} is not allowed on {request.url.path}")
    body = await read_json(request)
    emails = emails_of(body)
    key = body.get("account") or request.query_params.get("account")
    now = utc_now_us()
    with sandbox.store.lock:
        account = account_of(sandbox, key)
        if method == "DELETE":
            target = existing_list(account, list_id)
            known = [i for e in emails if (i := account.profiles.by_email.get(e)) is not None]
            return JSONResponse({"list_id": list_id, "removed": target.remove(known, now)})
        target = account.lists.get(list_id) or _new_list(account, list_id, body.get("name"))
        profiles = account.profiles.ensure(emails, now)
        profiles += _without_email(account, _count(body.get("without_email")), now)
        added = target.add(profiles, now)
        return JSONResponse({"list_id": list_id, "added": added, "members": target.count})


def _new_list(account: Account, list_id: str, name: Any) -> MemberList:
    if not _LIST_ID.match(list_id):
        raise AdminError(400, f"list id '{list_id}' must be letters and digits, like Y6nRLr")
    return account.create_list(str(name or f"Sandbox list {list_id}"), "single_opt_in", list_id)


def _count(value: Any) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise AdminError(400, "'without_email' must be a whole number from 0 to 1000000")
    return value


def _without_email(account: Account, count: int, now_us: int) -> list[int]:
    """``count`` new profiles without an email (stored empty: not in the email index)."""
    store = account.profiles
    start = len(store.emails)
    store.emails.extend([""] * count)
    store.created.extend([now_us] * count)
    store.updated.extend([now_us] * count)
    return list(range(start, start + count))


def _fault_settings(body: dict[str, Any]) -> FaultSettings:
    try:
        return FaultSettings.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise AdminError(400, f"invalid fault settings: {problems}") from exc


def _require_loopback(request: Request) -> None:
    host = request.client.host if request.client else ""
    if not host.startswith(_LOOPBACK):
        raise AdminError(403, "admin endpoints only answer loopback clients")
