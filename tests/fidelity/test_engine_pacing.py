"""Pacing follows the server (issue 18): the reported ``RateLimit-Limit`` wins over the built-in
tier and ``RateLimit-Remaining`` is approximate.

The scenario of the issue (L tier at 700/min, ``Remaining`` off by up to 10% of the limit, a
100,000-member read: 1,001 page calls, 1.43 windows) is run scaled down by ten so that it stays
pacing-bound at a high time scale: 70 per minute, 10,000 members (101 page calls, the same 1.43
windows), the noise 10% of the limit. The 1.15x-of-the-minimum figure of the full-size scenario
is measured by ``python -m tests.benchmarks.bench_read --l-steady 700 --remaining-noise 0.1``.

On main before this change: 16 x 429 in both tests (the limit 700 was ignored as "another
window's", and a noisy ``Remaining`` was spent as if exact).
"""

from __future__ import annotations

import httpx

from reconciler.klaviyo import KlaviyoClient
from reconciler.sandbox import SandboxConfig, create_app
from tests.klaviyo.support import BASE, KEY, admin_call, emails, seed

SCALE = 20.0
MEMBERS = 10_000
PAGES = "GET /api/lists/{id}/profiles"


async def read_against(l_steady: int, noise: float, seed_value: int) -> tuple[int, int, int]:
    """(members read, 429s the client saw, 429s the sandbox sent) for one full read."""
    app = create_app(
        SandboxConfig(
            api_keys=(KEY,),
            time_scale=SCALE,
            l_steady=l_steady,
            remaining_noise=noise,
            noise_seed=seed_value,
        )
    )
    await seed(app, "Pace01", emails("p", MEMBERS), batches=20)
    # a round trip of 20 ms keeps the reader's 16 requests in flight, as over a network
    await admin_call(app, "PUT", "faults", json={"latency_ms": 20})
    client = KlaviyoClient(
        KEY, base_url=BASE, transport=httpx.ASGITransport(app=app), time_scale=SCALE
    )
    async with client:
        members = await client.read_member_columns("Pace01")
    server = (await admin_call(app, "GET", "stats"))["throttled"]
    assert client.stats.for_endpoint(PAGES).requests >= MEMBERS // 100
    return members.count, client.stats.throttled, server


async def test_a_lower_server_limit_and_noisy_remaining_draw_at_most_two_429s() -> None:
    read, throttled, counted = await read_against(70, 0.1, 1)
    assert read == MEMBERS
    assert throttled == counted <= 2


async def test_the_published_limit_with_default_noise_draws_no_429() -> None:
    read, throttled, counted = await read_against(75, 0.05, 3)
    assert read == MEMBERS
    assert throttled == counted == 0
