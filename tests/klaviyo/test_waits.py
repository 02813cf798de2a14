"""Waits before a retry (issue 17 item 16, issue 18): 524 is retried for reads, one wait is
capped and reported, the waits of one request have a budget after which the request fails with
the server's reason, and an interrupt ends any wait at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from reconciler.klaviyo.errors import RateLimitedError, WaitInterrupted
from reconciler.klaviyo.transport.sender import WaitNotice
from reconciler.sandbox.app import SandboxApp
from tests.klaviyo.support import admin_call, client_for, emails, sandbox_app, seed

SCALE = 60.0
GET_LIST = "GET /api/lists/{id}"
COUNT_CALLS = 15  # GET /api/lists/{id} with profile_count: 15 a minute


async def spend_the_count_budget(app: SandboxApp) -> None:
    """Another client of the account uses the whole minute of profile_count calls."""
    other, _ = client_for(app, time_scale=SCALE)
    async with other:
        await asyncio.gather(
            *(other.get_list("Wai001", with_count=True) for _ in range(COUNT_CALLS))
        )


async def throttled_app() -> SandboxApp:
    app = sandbox_app(SCALE)
    await seed(app, "Wai001", emails("w", 3))
    await spend_the_count_budget(app)
    return app


async def test_a_524_is_retried_for_reads() -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Wai001", emails("w", 3))
    faults = {"error_rate": 1.0, "statuses": [524], "max_injections": 2, "endpoints": [GET_LIST]}
    await admin_call(app, "PUT", "faults", json=faults)
    client, recorder = client_for(app, time_scale=SCALE)
    async with client:
        assert (await client.get_list("Wai001")).id == "Wai001"
    assert client.stats.retries == 2 and len(recorder.sent) == 3


async def test_a_long_retry_after_is_capped_reported_and_fails_with_the_reason() -> None:
    app = await throttled_app()
    notices: list[WaitNotice] = []
    client, _ = client_for(
        app, time_scale=SCALE, max_wait=10.0, wait_budget=25.0, on_wait=notices.append
    )
    async with client:
        started = time.monotonic()
        with pytest.raises(RateLimitedError) as caught:
            await client.get_list("Wai001", with_count=True)
        elapsed = time.monotonic() - started
    # the server asked for the rest of its minute (about 45 s); the client waited 10 + 10 + 5
    assert [n.seconds for n in notices] == [10.0, 10.0, 5.0]
    assert all(n.advised > n.seconds and n.status == 429 for n in notices)
    assert "the server asked for" in notices[0].describe()
    assert 25.0 / SCALE <= elapsed < 25.0 / SCALE + 1.0
    error = caught.value
    assert error.status == 429 and "Request was throttled. Expected available in" in str(error)
    assert "25 s of waiting" in error.hint and "the server asks to wait" in error.hint


async def test_an_interrupt_ends_a_wait_at_once_and_sends_nothing_more() -> None:
    app = await throttled_app()
    client, recorder = client_for(app, time_scale=SCALE / 60)  # the server's 45 s take 45 s
    stop = asyncio.Event()
    client.interrupt_on(stop)
    async with client:
        call = asyncio.ensure_future(client.get_list("Wai001", with_count=True))
        await asyncio.sleep(0.2)
        sent = len(recorder.sent)
        started = time.monotonic()
        stop.set()
        with pytest.raises(WaitInterrupted):
            await call
        assert time.monotonic() - started < 0.5
    assert len(recorder.sent) == sent == 1


async def test_a_short_wait_is_not_reported() -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Wai001", emails("w", 3))
    faults = {"error_rate": 1.0, "statuses": [429], "max_injections": 1, "endpoints": [GET_LIST]}
    await admin_call(app, "PUT", "faults", json=faults)
    notices: list[WaitNotice] = []
    client, _ = client_for(app, time_scale=SCALE, on_wait=notices.append)
    async with client:
        await client.get_list("Wai001")
    assert client.stats.throttled == 1 and notices == []
