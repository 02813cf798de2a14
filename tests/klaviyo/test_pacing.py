"""The window limiter on a manual clock: burst and steady windows, alignment to the server."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.klaviyo.endpoints import GET_LIST_PROFILES, L, M, Rate
from reconciler.klaviyo.pacing import (
    JITTER_SECONDS,
    Pacer,
    PacerRegistry,
    Ticket,
    WindowLimiter,
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drain(limiter: WindowLimiter, clock: ManualClock, count: int) -> list[Ticket]:
    """Send ``count`` requests as fast as allowed, each answered at once."""
    tickets = []
    for _ in range(count):
        clock.now += limiter.wait_time(clock.now)
        assert limiter.wait_time(clock.now) == 0
        tickets.append(limiter.take(clock.now))
        limiter.done()
    return tickets


def times(tickets: list[Ticket]) -> list[float]:
    return [t.sent_at for t in tickets]


def max_in_window(sent: list[float], length: float) -> int:
    return max(sum(1 for t in sent if start <= t < start + length) for start in sent)


def test_burst_never_exceeds_limit_in_any_second() -> None:
    clock = ManualClock()
    sent = times(drain(WindowLimiter(M, clock=clock), clock, 60))
    assert max_in_window(sent, 1.0) == M.burst
    assert sent[M.burst] - sent[0] > 1.0


def test_steady_window_without_server_headers_is_a_sliding_minute() -> None:
    clock = ManualClock()
    sent = times(drain(WindowLimiter(M, clock=clock), clock, M.steady + 5))
    assert max_in_window(sent, 60.0) == M.steady
    assert sent[M.steady] >= sent[0] + 60.0


def test_time_scale_shrinks_windows() -> None:
    clock = ManualClock()
    sent = times(drain(WindowLimiter(L, time_scale=10.0, clock=clock), clock, 1000))
    assert max_in_window(sent, 0.1) <= L.burst
    assert max_in_window(sent, 6.0) <= L.steady
    assert 6.3 < sent[-1] - sent[0] < 6.6  # 750 in the first window, 250 right after


def test_aligned_to_server_window_restarts_when_it_resets() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(L, clock=clock, remaining_error=0.0)
    start = clock.now
    (first,) = drain(limiter, clock, 1)
    # the server says: 700 left in a window that ends in 20 s
    limiter.observe(first, clock.now, remaining=700, reset=20.0)
    sent = times(drain(limiter, clock, 701))
    assert sent[-2] < start + 20.0  # the 700 fit before the reset
    assert start + 20.0 <= sent[-1] <= start + 20.0 + 2 * JITTER_SECONDS


def test_derived_window_falls_back_to_sliding_when_unconfirmed() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    (first,) = drain(limiter, clock, 1)
    limiter.observe(first, clock.now, remaining=0, reset=5.0)
    clock.now += 5.0 + 2 * JITTER_SECONDS
    assert limiter.wait_time(clock.now) == 0  # rolled into the next (derived) window
    assert limiter.aligned
    clock.now += 61.0  # the derived window ends without a confirming answer
    limiter.wait_time(clock.now)
    assert not limiter.aligned


def test_latest_server_state_wins_and_unanswered_requests_are_deducted() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock, remaining_error=0.0)
    (first,) = drain(limiter, clock, 1)
    limiter.observe(first, clock.now, remaining=100, reset=30.0)
    z = limiter.take(clock.now)
    a = limiter.take(clock.now)
    limiter.take(clock.now)  # b
    c = limiter.take(clock.now)
    # someone else uses the account: a's answer says 10 left; b and c may not be counted yet
    limiter.observe(a, clock.now, remaining=10, reset=29.0)
    # an older state arriving late (z was sent before a) changes nothing, even if lower
    limiter.observe(z, clock.now, remaining=9, reset=29.0)
    for _ in range(4):
        limiter.done()
    sent = drain(limiter, clock, 7)
    assert sent[-1].sent_at < first.sent_at + 30.0
    assert limiter.wait_time(clock.now) > 0  # 10 - z - b - c = 7, all used
    assert c.index == 4


def test_stale_answers_from_previous_window_are_ignored() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    (old,) = drain(limiter, clock, 1)
    limiter.observe(old, clock.now, remaining=149, reset=1.0)
    clock.now += 1.0 + 2 * JITTER_SECONDS
    assert limiter.wait_time(clock.now) == 0
    (new,) = drain(limiter, clock, 1)
    limiter.observe(new, clock.now, remaining=149, reset=60.0)
    limiter.observe(old, clock.now, remaining=0, reset=0.0)  # late answer of the old window
    assert limiter.wait_time(clock.now) == 0


def test_requests_in_flight_count_until_answered_plus_a_window() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(Rate(2, 100), clock=clock)
    limiter.take(clock.now)
    limiter.take(clock.now)
    clock.now += 5.0  # slow answers: the server may have seen them at any point until now
    assert limiter.wait_time(clock.now) > 0
    limiter.done(clock.now)
    assert limiter.wait_time(clock.now) == pytest.approx(limiter._burst_gap)
    clock.now += limiter._burst_gap
    assert limiter.wait_time(clock.now) == 0


def test_retry_after_blocks_the_endpoint() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(L, clock=clock)
    limiter.block(3.0)
    assert limiter.wait_time(clock.now) == pytest.approx(3.0, abs=2 * JITTER_SECONDS)
    clock.now += 3.0 + 2 * JITTER_SECONDS
    assert limiter.wait_time(clock.now) == 0


def test_a_429_realigns_the_steady_window_to_its_retry_after() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(L, clock=clock, remaining_error=0.0)
    (first,) = drain(limiter, clock, 1)
    limiter.observe(first, clock.now, remaining=500, reset=50.0)  # the limiter believes 500
    limiter.block(12.0)  # the server says otherwise: its window ends in 12 s
    (late,) = drain(limiter, clock, 1)
    assert late.sent_at >= first.sent_at + 12.0
    # the new window is a whole one: 750 (less the one just sent) before it ends
    sent = times(drain(limiter, clock, L.steady - 1))
    assert sent[-1] < late.sent_at + 60.0
    assert limiter.wait_time(clock.now) > 0


def test_the_servers_limit_wins_over_the_built_in_tier() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(L, clock=clock, remaining_error=0.0)
    (first,) = drain(limiter, clock, 1)
    limiter.observe(first, clock.now, remaining=699, reset=60.0, limit=700)
    assert limiter.steady == 700
    clock.now = first.sent_at + 61.0  # the next window: 700 in it, not 750
    sent = times(drain(limiter, clock, 700))
    assert sent[-1] < first.sent_at + 121.0
    assert limiter.wait_time(clock.now) > 0


def test_remaining_is_approximate_the_own_count_wins_within_its_error() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock, remaining_error=0.1)  # 15 of 150 either way
    (first,) = drain(limiter, clock, 1)
    # 149 are left by the limiter's own count; the server's "160" is noise, not more room
    limiter.observe(first, clock.now, remaining=160, reset=30.0)
    sent = times(drain(limiter, clock, 149))
    assert sent[-1] < first.sent_at + 30.0
    assert limiter.wait_time(clock.now) > 0


def test_remaining_that_rules_the_own_count_out_is_followed_with_a_margin() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock, remaining_error=0.1)
    (first,) = drain(limiter, clock, 1)
    # someone else used most of the window: 40 reported, which may be 15 too many
    limiter.observe(first, clock.now, remaining=40, reset=30.0)
    sent = times(drain(limiter, clock, 25))
    assert sent[-1] < first.sent_at + 30.0
    assert limiter.wait_time(clock.now) > 0


async def test_acquire_serialises_concurrent_tasks() -> None:
    limiter = WindowLimiter(M, time_scale=100.0)

    async def call() -> float:
        ticket = await limiter.acquire()
        await asyncio.sleep(0.001)  # the request's round trip
        limiter.done()
        return ticket.sent_at

    sent = sorted(await asyncio.gather(*(call() for _ in range(25))))
    assert max_in_window(sent, 0.01) <= M.burst
    assert sent[-1] - sent[0] >= 0.02


def test_a_run_registry_shares_a_pacer_per_owner_and_base_url_and_runs_share_nothing() -> None:
    run = PacerRegistry()
    one = run.pacer("http://127.0.0.1:1", "abc", 10.0)
    assert run.pacer("http://127.0.0.1:1", "abc", 10.0) is one
    assert run.pacer("http://127.0.0.1:1", "abd", 10.0) is not one
    assert run.pacer("http://127.0.0.1:2", "abc", 10.0) is not one
    assert PacerRegistry().pacer("http://127.0.0.1:1", "abc", 10.0) is not one
    assert one.limiter(GET_LIST_PROFILES) is one.limiter(GET_LIST_PROFILES)
    assert Pacer(1.0).limiter(GET_LIST_PROFILES).rate == L
