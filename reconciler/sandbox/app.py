"""The sandbox ASGI application: the checks every API request passes, then its handler.

Order per API request: route (404/405), auth (401/403, or 400 with ``auth_errors="legacy"``),
scopes (403), ``revision`` (400), latency, rate limit (429), body size (413), content type (415),
JSON (400), injected faults, handler; then maybe an after-effect (the request was carried out,
the answer is a 504/524 or nothing) or a dropped response. Admin requests under ``/_sandbox/``
skip auth and limits but must come from a loopback address.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from datetime import date
from types import SimpleNamespace
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reconciler.sandbox.admin import handle_admin
from reconciler.sandbox.config import EARLY_REVISIONS, NEWEST_REVISION, SandboxConfig
from reconciler.sandbox.faults import DROP
from reconciler.sandbox.jsonapi import ApiError, invalid
from reconciler.sandbox.ratelimit import Decision, Limit
from reconciler.sandbox.routing import Route, match
from reconciler.sandbox.state import RequestContext, SandboxState
from reconciler.sandbox.transport import drop_connection

MAX_BODY = 5 * 1024 * 1024
_REVISION = re.compile(r"^(\d{4}-\d{2}-\d{2})(\.[a-z]+)?$")
_CLOUDFLARE_524 = (
    "<!DOCTYPE html><html><head><title>a.klaviyo.com | 524: A timeout occurred</title></head>"
    "<body><h1>A timeout occurred</h1><p>Error code 524</p></body></html>"
)
_BODY_TYPES = ("application/vnd.api+json", "application/json")
_AUTH_SCHEME = "klaviyo-api-key"
_log = logging.getLogger(__name__)


class SandboxApp:
    """A pure ASGI app; ``app.state.sandbox`` is the :class:`SandboxState`."""

    def __init__(self, config: SandboxConfig) -> None:
        self.state = SimpleNamespace(sandbox=SandboxState(config))

    @property
    def sandbox(self) -> SandboxState:
        state: SandboxState = self.state.sandbox
        return state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = _normal_path(scope["path"])
        response: Response | None
        try:
            if path.startswith("/_sandbox/"):
                response = await handle_admin(self.sandbox, request, path)
            else:
                response = await self._api(request, path)
        except ClientDisconnect:
            return  # the client went away mid-request (e.g. killed): nobody to answer
        if response is None:
            await drop_connection(scope)
            return
        response.headers["X-Sandbox-Time-Scale"] = f"{self.sandbox.config.time_scale:g}"
        await response(scope, receive, send)

    async def _api(self, request: Request, path: str) -> Response | None:
        sandbox = self.sandbox
        route, params, allowed = match(request.method, path)
        if route is None:
            if allowed:
                detail = (
                    f"Method {request.method} is not allowed here (allowed: {', '.join(allowed)})."
                )
                return ApiError(405, "method_not_allowed", detail).response()
            return ApiError(404, "not_found", f"No API endpoint at {path}.").response()
        sandbox.stats.count(route.endpoint)
        decision: Decision | None = None
        try:
            key = _authenticate(sandbox, request)
            _check_scopes(sandbox, route, key)
            _check_revision(request)
            await _latency(sandbox)
            decision = _rate_limit(sandbox, route, key, request)
            body = await _read_body(request)
            response = self._handle(route, key, params, request, body)
        except ApiError as error:
            response = error.response()
        except Exception as exc:  # a sandbox bug: still answer like Klaviyo, log no data
            _log.error("internal error in %s: %s", route.endpoint, type(exc).__name__)
            detail = f"Internal sandbox error ({type(exc).__name__})."
            response = ApiError(500, "error", detail).response()
        if response.status_code < 300:
            effect = sandbox.faults.after_effect(route.endpoint)
            if effect == DROP:
                return None
            if isinstance(effect, int):
                return _fault_response(sandbox, effect)
        if sandbox.faults.should_drop(route.endpoint):
            return None
        if decision is not None and decision.allowed:
            response.headers.update(_limit_headers(sandbox, decision))
        return response

    def _handle(
        self, route: Route, key: str, params: dict[str, str], request: Request, body: Any
    ) -> Response:
        sandbox = self.sandbox
        status = sandbox.faults.error_status(route.endpoint)
        if status is not None:
            return _fault_response(sandbox, status)
        base = f"{request.url.scheme}://{request.url.netloc}"
        with sandbox.store.lock:
            account = sandbox.store.accounts[key]
            ctx = RequestContext(
                sandbox, account, params, request.query_params, body, base, str(request.url)
            )
            return route.handler(ctx)


def create_app(config: SandboxConfig | None = None) -> SandboxApp:
    """A new sandbox application (fresh, empty accounts) for ``config``."""
    return SandboxApp(config or SandboxConfig())


def _normal_path(path: str) -> str:
    return path.rstrip("/") or "/"


def _authenticate(sandbox: SandboxState, request: Request) -> str:
    header = request.headers.get("authorization", "").strip()
    scheme, _, key = header.partition(" ")
    if not header or scheme.lower() != _AUTH_SCHEME or not key.strip():
        if sandbox.config.auth_errors == "legacy":  # older docs: 400 for a malformed key
            raise invalid(
                "Missing or malformed API key: send 'Authorization: Klaviyo-API-Key <key>'."
            )
        raise ApiError(
            401,
            "not_authenticated",
            "Missing or malformed credentials: send 'Authorization: Klaviyo-API-Key <key>'.",
        )
    key = key.strip()
    if key not in sandbox.store.accounts:
        raise ApiError(403, "permission_denied", "The API key is not valid for this account.")
    return key


def _check_scopes(sandbox: SandboxState, route: Route, key: str) -> None:
    granted = sandbox.config.scopes_of(key)
    if granted is None:
        return
    # a write scope includes reading (Klaviyo's key settings offer "Read" or "Full" access)
    held = granted | {scope.replace(":write", ":read") for scope in granted}
    if not set(route.scopes) <= held:
        raise ApiError(
            403, "permission_denied", "You do not have permission to perform this action."
        )


def _check_revision(request: Request) -> None:
    revision = request.headers.get("revision")
    if revision is None:
        raise invalid(
            "The 'revision' header is required (for example 2026-07-15).", parameter="revision"
        )
    found = _REVISION.match(revision.strip())
    if found is None:
        raise invalid(f"'{revision}' is not a valid revision (YYYY-MM-DD).", parameter="revision")
    if not _published(found[1]):
        raise invalid(
            f"'{revision}' is not a valid revision; the newest is {NEWEST_REVISION}.",
            parameter="revision",
        )


def _published(revision: str) -> bool:
    try:
        day = date.fromisoformat(revision)
    except ValueError:
        return False
    if revision in EARLY_REVISIONS:
        return True
    return day.day == 15 and "2023-06-15" <= revision <= NEWEST_REVISION


async def _latency(sandbox: SandboxState) -> None:
    latency = sandbox.faults.settings.latency_ms
    if latency:
        await asyncio.sleep(latency / 1000)


def _rate_limit(sandbox: SandboxState, route: Route, key: str, request: Request) -> Decision:
    bucket, limit = route.bucket(request.query_params)
    if limit.tier.name == "L" and limit.tier.steady != sandbox.config.l_steady:
        limit = Limit(replace(limit.tier, steady=sandbox.config.l_steady), limit.daily)
    # counted per account: every key of an account shares its limits, as on Klaviyo
    decision = sandbox.limiter.check(sandbox.store.accounts[key].id, bucket, limit)
    if not decision.allowed:
        with sandbox.stats.lock:
            sandbox.stats.throttled += 1
        raise _throttled(decision.retry_after, with_header=True)
    return decision


def _throttled(seconds: int, *, with_header: bool) -> ApiError:
    unit = "second" if seconds == 1 else "seconds"
    detail = f"Request was throttled. Expected available in {seconds} {unit}."
    headers = {"Retry-After": str(seconds)} if with_header else {}
    return ApiError(429, "throttled", detail, headers=headers)


def _fault_response(sandbox: SandboxState, status: int) -> Response:
    """An injected error: Klaviyo's JSON:API error, or for 524 the HTML page Cloudflare sends
    when the origin took too long (it never reaches Klaviyo's API layer)."""
    if status == 524:
        return Response(_CLOUDFLARE_524, status_code=524, media_type="text/html")
    with_header = sandbox.faults.settings.retry_after
    if status == 429:
        return _throttled(1, with_header=with_header).response()
    headers = {"Retry-After": "1"} if with_header and status == 503 else {}
    error = ApiError(status, "sandbox_fault", f"Injected fault: HTTP {status}.", headers=headers)
    return error.response()


async def _read_body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _BODY_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type '{media or '(none)'}' is not supported; send application/vnd.api+json.",
        )
    try:
        return orjson.loads(raw)
    except ValueError as exc:
        raise invalid(f"The request body is not valid JSON: {exc}.", pointer="/") from exc


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", "The request body exceeds the 5 MB limit.")


def _limit_headers(sandbox: SandboxState, decision: Decision) -> dict[str, str]:
    """The steady window's headers; ``Remaining`` is "approximate" (Klaviyo's rate-limit guide):
    off by up to ``remaining_noise`` of the limit, either way."""
    remaining = decision.remaining
    noise = sandbox.config.remaining_noise
    if noise:
        spread = round(noise * decision.limit)
        remaining = min(decision.limit, max(0, remaining + sandbox.noise.randint(-spread, spread)))
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(decision.reset),
    }


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
