"""Authentication, the revision header, content types, unknown paths and trailing slashes."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.sandbox import create_app
from reconciler.sandbox.config import SandboxError
from tests.sandbox.helpers import (
    HEADERS,
    KEY,
    OTHER_KEY,
    call,
    client_for,
    emails,
    list_body,
    members,
    quiet_client,
    quiet_config,
    seed,
)


async def test_missing_or_malformed_key_is_401() -> None:
    async with quiet_client() as client:
        error = await call(
            client, "GET", "/api/lists", "get_lists", 401, headers={"Authorization": ""}
        )
        assert error["errors"][0]["code"] == "not_authenticated"
        await call(
            client,
            "GET",
            "/api/lists",
            "get_lists",
            401,
            headers={"Authorization": f"Bearer {KEY}"},
        )


async def test_unknown_key_is_403() -> None:
    async with quiet_client() as client:
        error = await call(
            client,
            "GET",
            "/api/accounts",
            "get_accounts",
            403,
            headers={"Authorization": "Klaviyo-API-Key pk_unknown"},
        )
        assert error["errors"][0]["code"] == "permission_denied"
        assert "pk_unknown" not in error["errors"][0]["detail"]


async def test_revision_header_is_required() -> None:
    async with quiet_client() as client:
        client.headers.pop("revision")
        error = await call(client, "GET", "/api/lists", "get_lists", 400)
        assert error["errors"][0]["source"]["parameter"] == "revision"
        await call(client, "GET", "/api/lists", "get_lists", 400, headers={"revision": "latest"})
        await call(
            client, "GET", "/api/lists", "get_lists", 200, headers={"revision": "2026-07-15.pre"}
        )


async def test_body_content_type_is_checked() -> None:
    async with quiet_client() as client:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            error = await call(
                client,
                "POST",
                "/api/lists",
                "create_list",
                415,
                body=list_body("x"),
                headers={"Content-Type": content_type},
            )
            assert error["errors"][0]["code"] == "unsupported_media_type"
        await call(
            client,
            "POST",
            "/api/lists",
            "create_list",
            201,
            body=list_body("plain json"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        response = await client.post("/api/lists", content=b"{not json", headers=HEADERS)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/vnd.api+json"


async def test_trailing_slash_paths_are_accepted() -> None:
    async with quiet_client() as client:
        created = await call(
            client, "POST", "/api/lists/", "create_list", 201, body=list_body("slash")
        )
        list_id = created["data"]["id"]
        await call(client, "GET", f"/api/lists/{list_id}/", "get_list", 200)
        await call(client, "GET", f"/api/lists/{list_id}/profiles/", "get_profiles_for_list", 200)
        await call(client, "GET", "/api/accounts/", "get_accounts", 200)


async def test_unknown_path_and_method() -> None:
    async with quiet_client() as client:
        response = await client.get("/api/nothing-here")
        assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
        response = await client.patch("/api/lists")
        assert response.status_code == 405


async def test_each_key_is_its_own_account() -> None:
    app = create_app(quiet_config())
    async with client_for(app, KEY) as mine, client_for(app, OTHER_KEY) as theirs:
        await seed(mine, "Y6nRLr", emails("mine", 2))
        await seed(mine, "Y6nRLr", emails("theirs", 3), account=OTHER_KEY)
        await call(mine, "GET", "/api/lists/Y6nRLr/profiles", "get_profiles_for_list", 200)
        assert await members(mine, "Y6nRLr") == set(emails("mine", 2))
        assert await members(mine, "Y6nRLr", account=OTHER_KEY) == set(emails("theirs", 3))
        page = await call(theirs, "GET", "/api/lists/Y6nRLr/profiles", "get_profiles_for_list", 200)
        assert {p["attributes"]["email"] for p in page["data"]} == set(emails("theirs", 3))
        created = await call(
            theirs, "POST", "/api/lists", "create_list", 201, body=list_body("only theirs")
        )
        await call(mine, "GET", f"/api/lists/{created['data']['id']}", "get_list", 404)


async def test_responses_carry_the_time_scale() -> None:
    async with quiet_client(time_scale=42.0) as client:
        response = await client.get("/api/accounts")
        assert response.headers["X-Sandbox-Time-Scale"] == "42"


async def test_the_time_scale_can_change_while_running() -> None:
    app = create_app(quiet_config(time_scale=10.0))
    sandbox = app.sandbox
    before = sandbox.clock.now()
    sandbox.set_time_scale(1.0)
    assert sandbox.clock.now() >= before  # virtual time goes on, it does not jump back
    ahead = sandbox.clock.now() + 5.0
    assert abs(sandbox.clock.real_at(ahead) - time.monotonic() - 5.0) < 0.5  # 1 s = 1 s now
    async with client_for(app) as client:
        response = await client.get("/api/accounts")
    assert response.headers["X-Sandbox-Time-Scale"] == "1"
    assert sandbox.runner.clock.time_scale == 1.0
    with pytest.raises(SandboxError):
        sandbox.set_time_scale(0)
    assert sandbox.config.time_scale == 1.0


async def test_in_process_app_answers_over_asgi_transport() -> None:
    app = create_app(quiet_config())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        response = await client.get("/api/lists", headers=HEADERS)
    assert response.status_code == 200
    assert app.state.sandbox.stats.requests["GET /api/lists"] == 1
