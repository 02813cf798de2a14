"""Pacing against the sandbox's real (time-scaled) rate limits: bursts through the client get no
429 at all, while the same bursts sent with raw httpx do."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from reconciler.klaviyo import KlaviyoClient, PacerRegistry
from reconciler.klaviyo.transport.http import REVISION
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.support import KEY, admin_call, client_for, emails, sandbox_app, seed

SCALE = 60.0
HEADERS = {
    "Authorization": f"Klaviyo-API-Key {KEY}",
    "revision": REVISION,
    "Accept": "application/vnd.api+json",
}


async def raw_burst(http: httpx.AsyncClient, path: str, count: int) -> list[int]:
    responses = await asyncio.gather(*(http.get(path, headers=HEADERS) for _ in range(count)))
    return [r.status_code for r in responses]


async def test_xs_tier_burst_in_process() -> None:
    app = sandbox_app(SCALE)
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        started = time.monotonic()
        accounts = await asyncio.gather(*(client.verify_key() for _ in range(20)))
        elapsed = time.monotonic() - started
    assert len({a.id for a in accounts}) == 1
    assert client.stats.throttled == 0 and client.stats.retries == 0
    assert (await admin_call(app, "GET", "stats"))["throttled"] == 0
    # 15 per (scaled) minute: the 16th call had to wait for the next window (1 s real)
    assert elapsed < 3.0

    fresh = sandbox_app(SCALE)
    transport = httpx.ASGITransport(app=fresh)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        statuses = await raw_burst(http, "/api/accounts", 20)
    assert statuses.count(429) >= 5


async def test_l_and_m_tier_bursts_in_process() -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Big001", emails("b", 3_000))
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        found = await asyncio.gather(*(client.get_list("Big001") for _ in range(900)))
        profile_ids = [m.profile_id for m in await client.read_members("Big001")]
        removed = await asyncio.gather(
            *(client.remove_members("Big001", [pid]) for pid in profile_ids[:170])
        )
    assert len(found) == 900 and sum(removed) == 170
    assert client.stats.throttled == 0
    assert (await admin_call(app, "GET", "stats"))["throttled"] == 0


async def test_burst_over_a_real_socket_and_two_clients_sharing_one_budget() -> None:
    with SandboxServer(SandboxConfig(time_scale=SCALE)) as server:
        server.admin.seed("Sock01", emails("s", 50))
        # two clients of the same key opened by one run share that run's pacer of the key
        run = PacerRegistry()
        one = KlaviyoClient(KEY, base_url=server.base_url, time_scale=SCALE, pacers=run)
        two = KlaviyoClient(KEY, base_url=server.base_url, time_scale=SCALE, pacers=run)
        assert one.pacer is two.pacer
        assert KlaviyoClient(KEY, base_url=server.base_url, time_scale=SCALE).pacer is not one.pacer
        async with one, two:
            calls = [c.get_list("Sock01", with_count=True) for c in (one, two) for _ in range(12)]
            lists = await asyncio.gather(*calls)
        assert {lst.profile_count for lst in lists} == {50}
        assert one.stats.throttled == two.stats.throttled == 0
        assert server.admin.stats()["throttled"] == 0

        async with httpx.AsyncClient(base_url=server.base_url) as http:
            await asyncio.sleep(1.1)  # a fresh steady window (60 s / 60)
            statuses = await raw_burst(
                http, "/api/lists/Sock01?additional-fields[list]=profile_count", 24
            )
        assert statuses.count(429) >= 9
        assert server.admin.stats()["throttled"] >= 9


@pytest.mark.faults
async def test_latency_does_not_break_pacing_over_a_socket() -> None:
    with SandboxServer(SandboxConfig(time_scale=SCALE)) as server:
        server.admin.seed(
            "Lat001",
            emails("l", 1_000),
        )
        server.admin.faults(latency_ms=15)
        async with KlaviyoClient(KEY, base_url=server.base_url, time_scale=SCALE) as client:
            members = await client.read_members("Lat001")
            again = await asyncio.gather(*(client.get_list("Lat001") for _ in range(300)))
        assert len(members) == 1_000 and len(again) == 300
        assert client.stats.throttled == 0
        assert server.admin.stats()["throttled"] == 0
