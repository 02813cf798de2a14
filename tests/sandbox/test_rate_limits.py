"""Fixed-window rate limits per account and endpoint, 429 bodies, Retry-After and time scale."""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx

from reconciler.sandbox import SandboxApp, create_app
from reconciler.sandbox.routing import ROUTES
from tests.openapi_contract import SLICES, validate_response
from tests.sandbox.helpers import KEY, OTHER_KEY, client_for, list_body, quiet_config

RATES = re.compile(r"Burst: `(\d+)/s`<br>Steady: `(\d+)/m`")


def limited_app(time_scale: float) -> SandboxApp:
    return create_app(quiet_config(time_scale=time_scale, rate_limits=True, remaining_noise=0.0))


async def burst(
    client: httpx.AsyncClient, url: str, count: int, **params: str
) -> list[httpx.Response]:
    return [await client.get(url, params=params) for _ in range(count)]


def assert_throttled(response: httpx.Response, operation: str) -> int:
    assert response.status_code == 429
    body = response.json()
    validate_response(operation, 429, body)
    error = body["errors"][0]
    assert error["code"] == "throttled" and error["title"] == "Request was throttled."
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    assert re.search(rf"Expected available in {retry_after} seconds?\.", error["detail"])
    assert "RateLimit-Remaining" not in response.headers
    return retry_after


def test_tiers_match_the_published_limits() -> None:
    for route in ROUTES:
        document = json.loads((SLICES / f"{route.operation}.json").read_text())
        operation = document["paths"][route.template][route.method.lower()]
        published = [(int(b), int(s)) for b, s in RATES.findall(operation["description"])]
        ours = [(route.limit.tier.burst, route.limit.tier.steady)]
        ours += [(v.limit.tier.burst, v.limit.tier.steady) for v in route.variants]
        assert published == ours, route.endpoint
    creation = next(r for r in ROUTES if r.operation == "create_list")
    assert creation.limit.daily == 150


async def test_burst_beyond_the_tier_is_throttled() -> None:
    async with client_for(limited_app(1.0)) as client:
        responses = await burst(client, "/api/profile-bulk-import-jobs", 25)
    ok = [r for r in responses if r.status_code == 200]
    throttled = [r for r in responses if r.status_code == 429]
    assert 10 <= len(ok) <= 20 and throttled  # 10/s, at most one window boundary crossed
    for response in throttled:
        assert_throttled(response, "get_bulk_import_profiles_jobs")
    first = ok[0].headers
    assert first["RateLimit-Limit"] == "150"
    assert int(first["RateLimit-Remaining"]) == 149
    assert 1 <= int(first["RateLimit-Reset"]) <= 60


async def test_retry_after_is_virtual_seconds_under_a_time_scale() -> None:
    scale = 60.0
    async with client_for(limited_app(scale)) as client:
        started = time.monotonic()
        responses = await burst(client, "/api/accounts", 40)
        throttled = [r for r in responses if r.status_code == 429]
        assert throttled and throttled[0].headers["X-Sandbox-Time-Scale"] == "60"
        retry_after = assert_throttled(throttled[-1], "get_accounts")
        await asyncio.sleep(retry_after / scale)
        again = await client.get("/api/accounts")
        elapsed = time.monotonic() - started
    assert again.status_code == 200
    assert elapsed < retry_after  # a client pacing with the same scale never waits real seconds


async def test_limits_are_per_account_and_per_endpoint() -> None:
    app = create_app(quiet_config(time_scale=1.0, rate_limits=True))
    async with client_for(app, KEY) as mine, client_for(app, OTHER_KEY) as theirs:
        responses = await burst(mine, "/api/accounts", 3)
        assert any(r.status_code == 429 for r in responses)
        assert (await theirs.get("/api/accounts")).status_code == 200
        assert (await mine.get("/api/lists")).status_code == 200
    assert app.state.sandbox.stats.throttled >= 1


async def test_profile_count_has_its_own_stricter_limit() -> None:
    async with client_for(limited_app(1.0)) as client:
        created = await client.post("/api/lists", json=list_body("counted"))
        url = f"/api/lists/{created.json()['data']['id']}"
        plain = await burst(client, url, 3)
        counted = await burst(client, url, 3, **{"additional-fields[list]": "profile_count"})
    assert [r.status_code for r in plain] == [200, 200, 200]
    assert any(r.status_code == 429 for r in counted)
    assert counted[0].status_code == 200 and counted[0].headers["RateLimit-Limit"] == "15"


async def test_list_creation_is_capped_per_day() -> None:
    async with client_for(limited_app(1000.0)) as client:
        created = 0
        while created <= 300:
            response = await client.post("/api/lists", json=list_body(f"L{created}"))
            if response.status_code == 429:
                break
            assert response.status_code == 201, response.text
            created += 1
    assert 150 <= created <= 300
    assert assert_throttled(response, "create_list") > 60  # the daily window, not the minute


async def test_rate_limits_off() -> None:
    async with client_for(create_app(quiet_config(time_scale=1.0, rate_limits=False))) as client:
        responses = await burst(client, "/api/accounts", 30)
    assert {r.status_code for r in responses} == {200}
