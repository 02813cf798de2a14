"""Helpers for the Klaviyo client tests: a request-recording transport (it records, it never
answers in the server's place) and factories for in-process sandbox clients."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.klaviyo import KlaviyoClient, Pacer
from reconciler.sandbox import SandboxConfig, create_app
from reconciler.sandbox.app import SandboxApp
from tests.openapi_contract import validate_request

KEY = "sandbox-key"
BASE = "http://127.0.0.1"

_OPERATIONS = [
    ("POST", re.compile(r"^/api/lists/?$"), "create_list"),
    ("POST", re.compile(r"^/api/lists/[^/]+/relationships/profiles/?$"), "add_profiles_to_list"),
    (
        "DELETE",
        re.compile(r"^/api/lists/[^/]+/relationships/profiles/?$"),
        "remove_profiles_from_list",
    ),
    ("POST", re.compile(r"^/api/profile-bulk-import-jobs/?$"), "bulk_import_profiles"),
]


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Recorder(httpx.AsyncBaseTransport):
    """Passes every request to ``inner`` unchanged and keeps a copy of it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.sent.append(
            Sent(
                request.method,
                request.url.path,
                request.url.query.decode(),
                dict(request.headers),
                body,
            )
        )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def with_body(self) -> list[Sent]:
        return [s for s in self.sent if s.body]

    def validate_bodies(self) -> int:
        """Validate every body sent against its OpenAPI slice; returns how many were checked."""
        checked = 0
        for sent in self.with_body():
            operation = operation_of(sent.method, sent.path)
            validate_request(operation, sent.json())
            checked += 1
        return checked


def operation_of(method: str, path: str) -> str:
    for known_method, pattern, operation in _OPERATIONS:
        if method == known_method and pattern.match(path):
            return operation
    raise AssertionError(f"no slice known for a body sent with {method} {path}")


def sandbox_app(time_scale: float = 60.0, **settings: Any) -> SandboxApp:
    return create_app(SandboxConfig(time_scale=time_scale, **settings))


def client_for(
    app: SandboxApp, *, time_scale: float = 60.0, **options: Any
) -> tuple[KlaviyoClient, Recorder]:
    """A client talking in-process to ``app`` through a recorder, with its own pacer."""
    recorder = Recorder(httpx.ASGITransport(app=app))
    options.setdefault("pacer", Pacer(time_scale))
    client = KlaviyoClient(KEY, base_url=BASE, transport=recorder, time_scale=time_scale, **options)
    return client, recorder


def emails(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}@example.com" for i in range(count)]


async def seed(app: SandboxApp, list_id: str, addresses: list[str], batches: int = 1) -> None:
    """Add members through the sandbox's admin API; each batch gets its own join time, a
    millisecond or more apart (filters name milliseconds, as Klaviyo documents)."""
    size = max(1, -(-len(addresses) // batches))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as admin:
        for start in range(0, len(addresses), size):
            body = {"emails": addresses[start : start + size]}
            response = await admin.post(f"/_sandbox/lists/{list_id}/members", json=body)
            assert response.status_code == 200, response.text
            if batches > 1:
                await asyncio.sleep(0.0011)


async def admin_call(app: SandboxApp, method: str, path: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as admin:
        response = await admin.request(method, f"/_sandbox/{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()
