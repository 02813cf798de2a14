"""Helpers for sandbox tests: in-process clients and request bodies, every response checked
against the operation's OpenAPI slice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from reconciler.sandbox import SandboxApp, SandboxConfig, create_app
from tests.openapi_contract import validate_request, validate_response

KEY = "sandbox-key"
OTHER_KEY = "other-key"
REVISION = "2026-07-15"
HEADERS = {
    "Authorization": f"Klaviyo-API-Key {KEY}",
    "revision": REVISION,
    "Accept": "application/vnd.api+json",
    "Content-Type": "application/vnd.api+json",
}


def quiet_config(**overrides: Any) -> SandboxConfig:
    """Rate limits off, fast jobs: for tests about behaviour other than pacing."""
    settings: dict[str, Any] = {
        "api_keys": (KEY, OTHER_KEY),
        "time_scale": 1000.0,
        "rate_limits": False,
    }
    settings.update(overrides)
    return SandboxConfig(**settings)


@asynccontextmanager
async def client_for(app: SandboxApp, key: str = KEY) -> AsyncIterator[httpx.AsyncClient]:
    headers = {**HEADERS, "Authorization": f"Klaviyo-API-Key {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox.test", headers=headers
    ) as client:
        yield client


@asynccontextmanager
async def quiet_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(quiet_config(**overrides))) as client:
        yield client


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    operation: str,
    status: int,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send a request, assert its status and validate the response body against the slice."""
    if body is not None and status < 300:
        validate_request(operation, body)
    response = await client.request(method, url, json=body, params=params, headers=headers)
    assert response.status_code == status, f"{method} {url}: {response.status_code} {response.text}"
    parsed: dict[str, Any] | None = response.json() if response.content else None
    validate_response(operation, status, parsed)
    if status >= 400:
        assert parsed is not None and parsed["errors"][0]["status"] == status
    return parsed or {}


def list_body(name: str) -> dict[str, Any]:
    return {"data": {"type": "list", "attributes": {"name": name}}}


def ids_body(ids: Iterable[str]) -> dict[str, Any]:
    return {"data": [{"type": "profile", "id": profile_id} for profile_id in ids]}


def import_body(
    emails: Iterable[str], list_id: str | None = None, **attributes: Any
) -> dict[str, Any]:
    profiles = [
        {"type": "profile", "attributes": {"email": email, **attributes}} for email in emails
    ]
    data: dict[str, Any] = {
        "type": "profile-bulk-import-job",
        "attributes": {"profiles": {"data": profiles}},
    }
    if list_id is not None:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
    return {"data": data}


def emails(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


async def seed(client: httpx.AsyncClient, list_id: str, addresses: list[str], **extra: Any) -> int:
    response = await client.post(
        f"/_sandbox/lists/{list_id}/members", json={"emails": addresses, **extra}
    )
    assert response.status_code == 200, response.text
    added: int = response.json()["added"]
    return added


async def members(client: httpx.AsyncClient, list_id: str, account: str | None = None) -> set[str]:
    params = {"account": account} if account else None
    response = await client.get(f"/_sandbox/lists/{list_id}/members", params=params)
    assert response.status_code == 200, response.text
    return set(response.json()["emails"])


async def read_all(
    client: httpx.AsyncClient, url: str, operation: str, **params: Any
) -> list[dict[str, Any]]:
    """Follow links.next to the end, validating every page."""
    found: list[dict[str, Any]] = []
    page = await call(client, "GET", url, operation, 200, params=params)
    found += page["data"]
    while "next" in page["links"]:
        page = await call(client, "GET", page["links"]["next"], operation, 200)
        found += page["data"]
    return found
