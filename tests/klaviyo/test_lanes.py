"""The client's connections in small pools (lanes), over a real socket to the sandbox; the
cursor links it follows."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.errors import KlaviyoError
from reconciler.klaviyo.jsonapi import next_link
from reconciler.klaviyo.transport.lanes import LANE_SIZE, LaneTransport
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.support import KEY, emails

HEADERS = {"Authorization": f"Klaviyo-API-Key {KEY}", "revision": "2026-07-15"}


async def test_requests_in_flight_spread_over_the_lanes_and_are_counted_out() -> None:
    with SandboxServer(SandboxConfig(time_scale=60.0)) as server:
        server.admin.seed("Lane01", emails("l", 30))
        server.admin.faults(latency_ms=300)  # every answer late: all requests in flight at once
        lanes = LaneTransport(4 * LANE_SIZE)
        assert lanes.lanes == 4
        async with httpx.AsyncClient(
            transport=lanes, base_url=server.base_url, headers=HEADERS
        ) as http:
            calls = [
                asyncio.ensure_future(http.get("/api/lists/Lane01/profiles")) for _ in range(16)
            ]
            await asyncio.sleep(0.15)
            assert lanes.in_flight == (LANE_SIZE,) * 4  # evenly, none queued behind another
            answers = await asyncio.gather(*calls)
            assert [a.status_code for a in answers] == [200] * 16
            assert lanes.in_flight == (0,) * 4
            # a request cancelled in flight is counted out too
            cancelled = asyncio.ensure_future(http.get("/api/lists/Lane01/profiles"))
            await asyncio.sleep(0.1)
            assert sum(lanes.in_flight) == 1
            cancelled.cancel()
            await asyncio.gather(cancelled, return_exceptions=True)
            assert lanes.in_flight == (0,) * 4
        server.admin.faults()


async def test_a_read_with_many_chains_over_lanes_reads_every_member() -> None:
    with SandboxServer(SandboxConfig(time_scale=60.0)) as server:
        for batch in range(8):  # eight join instants: chains of several segments at once
            server.admin.seed("Lane02", emails(f"b{batch}-", 250))
        async with KlaviyoClient(
            KEY, base_url=server.base_url, time_scale=60.0, read_concurrency=32
        ) as api:
            members = await api.read_members("Lane02")
        expected = {e for batch in range(8) for e in emails(f"b{batch}-", 250)}
        assert {m.email for m in members} == expected
        assert len(members) == len(expected)


def test_next_links_stay_on_the_base_url() -> None:
    base = "https://a.example.test"
    cursor = f"{base}/api/lists/L1/profiles?page%5Bcursor%5D=abc&sort=-joined_group_at"
    same = next_link({"links": {"next": cursor}}, base)
    assert isinstance(same, httpx.URL) and str(same) == cursor  # taken as parsed
    relative = next_link({"links": {"next": "/api/lists/L1/profiles?page%5Bcursor%5D=x"}}, base)
    assert relative is not None and str(relative) == "/api/lists/L1/profiles?page%5Bcursor%5D=x"
    # another scheme or port of our host, or a base URL with a path: only the path and query
    other_port = next_link({"links": {"next": "https://a.example.test:8443/api/x?y=1"}}, base)
    assert str(other_port) == "/api/x?y=1"
    assert next_link({"links": {"next": None}}, base) is None
    with pytest.raises(KlaviyoError, match="another host"):
        next_link({"links": {"next": "https://elsewhere.example.test/api/x"}}, base)
