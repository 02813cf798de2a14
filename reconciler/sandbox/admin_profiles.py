"""Admin endpoints for what Klaviyo does to profiles by itself (help.klaviyo.com, "How profiles
are added to and removed from lists", "How to remove suppressed profiles from a list"):

- ``POST /_sandbox/profiles/unsubscribe {"emails": [...], "list_id": "X"}``: email consent
  UNSUBSCRIBED and an UNSUBSCRIBE suppression (``"reason"`` may name another suppression reason,
  ``"at"`` an ISO 8601 time); with ``list_id`` (a campaign sent to that list) the profiles also
  leave that list, without it (a flow or a segment campaign) they stay in every list;
- ``POST /_sandbox/lists/{id}/remove-suppressed``: the list's suppressed members leave it;
- ``POST /_sandbox/profiles/delete {"emails": [...]}``: the profiles leave every list, their ids
  are gone;
- ``POST /_sandbox/profiles/merge {"into": email, "from": email}``: one profile is left; the
  other's id is gone, its lists (and fields ``into`` lacks) are carried over;
- ``POST /_sandbox/profiles/confirm {"emails": [...], "list_id": "X"}``: profiles pending double
  opt-in for that list confirm: subscribed to email and added to the list;
- ``GET /_sandbox/profiles?email=ADDR`` (or ``phone_number=``, ``external_id=``): the profile's
  id, attributes, properties, subscriptions and lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox.admin_common import (
    AdminError,
    account_of,
    emails_of,
    existing_list,
    read_json,
)
from reconciler.sandbox.clock import iso_from_us, us_from_datetime, utc_now_us
from reconciler.sandbox.consent import SUPPRESSION_REASONS, empty_view
from reconciler.sandbox.emails import valid_email
from reconciler.sandbox.jsonapi import Json
from reconciler.sandbox.members import MemberList
from reconciler.sandbox.resources import PROFILE_FIELDS
from reconciler.sandbox.state import SandboxState
from reconciler.sandbox.store import Account

_FIELDS = tuple(name for name in PROFILE_FIELDS if name not in ("properties", "last_event_date"))


async def profile_admin(sandbox: SandboxState, request: Request, path: str) -> Response:
    method = request.method
    if path == "/_sandbox/profiles" and method == "GET":
        query = request.query_params
        with sandbox.store.lock:
            account = account_of(sandbox, query.get("account"))
            return JSONResponse(profile_view(account, _lookup(account, query)))
    actions = {
        "/_sandbox/profiles/unsubscribe": _unsubscribe,
        "/_sandbox/profiles/delete": _delete,
        "/_sandbox/profiles/merge": _merge,
        "/_sandbox/profiles/confirm": _confirm,
    }
    action = actions.get(path)
    if action is None or method != "POST":
        raise AdminError(404, f"no admin endpoint {method} {path}")
    body = await read_json(request)
    with sandbox.store.lock:
        account = account_of(sandbox, body.get("account") or request.query_params.get("account"))
        return JSONResponse(action(account, body))


def _lookup(account: Account, query: Any) -> int:
    profiles = account.profiles
    if "email" in query:
        email = valid_email(query["email"])
        index = profiles.find(email) if email else None
    elif "phone_number" in query:
        index = profiles.find_phone(query["phone_number"])
    elif "external_id" in query:
        index = profiles.find_external(query["external_id"])
    else:
        raise AdminError(400, "give ?email=, ?phone_number= or ?external_id=")
    if index is None:
        raise AdminError(404, "no profile with that identifier in this account")
    return index


def profile_view(account: Account, index: int) -> Json:
    """Everything the sandbox knows about one profile."""
    profiles = account.profiles
    extra = profiles.extra.get(index, {})
    attributes: Json = {name: extra.get(name) for name in _FIELDS}
    attributes["email"] = profiles.emails[index] or None
    attributes["created"] = iso_from_us(profiles.created[index])
    attributes["updated"] = iso_from_us(profiles.updated[index])
    attributes["location"] = extra.get("location") or {}
    consent = profiles.consent.get(index)
    return {
        "id": profiles.id_of(index),
        "attributes": attributes,
        "properties": extra.get("properties") or {},
        "subscriptions": consent.view() if consent else empty_view(),
        "lists": sorted(list_id for list_id, item in account.lists.items() if index in item),
        "pending_double_opt_in": list(consent.pending_lists) if consent else [],
    }


def _known(account: Account, body: dict[str, Any]) -> tuple[list[int], int]:
    """The profiles of ``body["emails"]`` that exist, and how many did not."""
    found = [account.profiles.find(email) for email in emails_of(body)]
    known = [index for index in dict.fromkeys(found) if index is not None]
    return known, sum(1 for index in found if index is None)


def _optional_list(account: Account, body: dict[str, Any]) -> MemberList | None:
    list_id = body.get("list_id")
    if list_id is None:
        return None
    if not isinstance(list_id, str):
        raise AdminError(400, "'list_id' must be a list id such as Y6nRLr")
    return existing_list(account, list_id)


def _moment(value: Any) -> int:
    if value is None:
        return utc_now_us()
    try:
        return us_from_datetime(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise AdminError(400, "'at' must be an ISO 8601 date-time") from None


def _unsubscribe(account: Account, body: dict[str, Any]) -> Json:
    known, unknown = _known(account, body)
    target = _optional_list(account, body)
    reason = body.get("reason", "UNSUBSCRIBE")
    if reason not in SUPPRESSION_REASONS:
        raise AdminError(400, f"'reason' must be one of {sorted(SUPPRESSION_REASONS)}")
    at = _moment(body.get("at"))
    for index in known:
        consent = account.profiles.consent_of(index)
        consent.email.unsubscribe(at)
        consent.suppress(reason, at)
    removed = target.remove(known, utc_now_us()) if target is not None else 0
    return {"unsubscribed": len(known), "removed_from_list": removed, "unknown": unknown}


def remove_suppressed(account: Account, target: MemberList) -> Json:
    """Klaviyo's "remove suppressed profiles" of one list."""
    consent = account.profiles.consent
    suppressed = [
        i for i in target.profiles() if (c := consent.get(i)) is not None and c.suppressed
    ]
    return {"list_id": target.id, "removed": target.remove(suppressed, utc_now_us())}


def _delete(account: Account, body: dict[str, Any]) -> Json:
    known, unknown = _known(account, body)
    now = utc_now_us()
    for target in account.lists.values():
        target.remove(known, now)
    for index in known:
        account.profiles.delete(index)
    return {"deleted": len(known), "unknown": unknown}


def _one(account: Account, body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    email = valid_email(value) if isinstance(value, str) else None
    index = account.profiles.find(email) if email else None
    if index is None:
        raise AdminError(404, f"'{name}' must be the email of a profile in this account")
    return index


def _merge(account: Account, body: dict[str, Any]) -> Json:
    into, source = _one(account, body, "into"), _one(account, body, "from")
    if into == source:
        raise AdminError(400, "'into' and 'from' are the same profile")
    profiles = account.profiles
    now = utc_now_us()
    for target in account.lists.values():
        if source in target:
            target.remove([source], now)
            target.add([into], now)
    kept = profiles.extra.setdefault(into, {})
    taken = dict(profiles.extra.get(source, {}))
    properties = {**taken.pop("properties", {}), **kept.get("properties", {})}
    identifiers = {k: taken.pop(k, None) for k in ("phone_number", "external_id")}
    removed_id = profiles.id_of(source)
    profiles.delete(source)
    for name, value in taken.items():
        kept.setdefault(name, value)
    if properties:
        kept["properties"] = properties
    profiles.identify(
        into,
        None,
        None if kept.get("phone_number") else identifiers["phone_number"],
        None if kept.get("external_id") else identifiers["external_id"],
    )
    profiles.updated[into] = now
    return {"id": profiles.id_of(into), "removed_id": removed_id}


def _confirm(account: Account, body: dict[str, Any]) -> Json:
    known, unknown = _known(account, body)
    target = _optional_list(account, body)
    if target is None:
        raise AdminError(400, "give the 'list_id' whose double opt-in the profiles confirm")
    now = utc_now_us()
    confirmed = []
    for index in known:
        consent = account.profiles.consent_of(index)
        if target.id in consent.pending_lists:
            consent.pending_lists.remove(target.id)
            consent.email.subscribe(now, now, None, double=True)
            confirmed.append(index)
    target.add(confirmed, now)
    return {"confirmed": len(confirmed), "unknown": unknown}
