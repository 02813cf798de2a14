"""The window limiter on a manual clock: burst and steady windows, alignment to the server."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.klaviyo.endpoints import GET_LIST_PROFILES, L, M, Rate
from reconciler.klaviyo.pacing import JITTER_SECONDS, Pacer, WindowLimiter, shared_pacer


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drain(limiter: WindowLimiter, clock: ManualClock, count: int, step: float = 0.0) -> list[float]:
    """Send ``count`` requests as fast as allowed (``step`` apart at least); their send times."""
    times = []
    for _ in range(count):
        clock.now += step
        wait = limiter.wait_time(clock.now)
        clock.now += wait
        assert limiter.wait_time(clock.now) == 0
        limiter.take(clock.now)
        limiter.done()
        times.append(clock.now)
    return times


def max_in_window(times: list[float], length: float) -> int:
    return max(sum(1 for t in times if start <= t < start + length) for start in times)


def test_burst_never_exceeds_limit_in_any_second() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    times = drain(limiter, clock, 60)
    assert max_in_window(times, 1.0) == M.burst
    assert times[M.burst] - times[0] > 1.0


def test_steady_window_without_server_headers_is_a_sliding_minute() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    times = drain(limiter, clock, M.steady + 5)
    assert max_in_window(times, 60.0) == M.steady
    assert times[M.steady] >= times[0] + 60.0


def test_time_scale_shrinks_windows() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(L, time_scale=10.0, clock=clock)
    times = drain(limiter, clock, 1000)
    assert max_in_window(times, 0.1) <= L.burst
    assert max_in_window(times, 6.0) <= L.steady
    assert 6.3 < times[-1] - times[0] < 6.6  # 750 in the first window, 250 right after


def test_aligned_to_server_window_restarts_when_it_resets() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(L, clock=clock)
    start = clock.now
    sent_at = drain(limiter, clock, 1)[0]
    # the server says: 700 left in a window that ends in 20 s
    limiter.observe(sent_at, clock.now, remaining=700, reset=20.0)
    times = drain(limiter, clock, 701)
    assert times[-2] < start + 20.0  # the 700 fit before the reset
    assert times[-1] >= start + 20.0  # the next one waits for the new window
    assert times[-1] <= start + 20.0 + 2 * JITTER_SECONDS


def test_derived_window_falls_back_to_sliding_when_unconfirmed() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    sent_at = drain(limiter, clock, 1)[0]
    limiter.observe(sent_at, clock.now, remaining=0, reset=5.0)
    clock.now += 5.0 + 2 * JITTER_SECONDS
    assert limiter.wait_time(clock.now) == 0  # rolled into the next (derived) window
    assert limiter.aligned
    clock.now += 61.0  # the derived window ends without a confirming answer
    limiter.wait_time(clock.now)
    assert not limiter.aligned


def test_other_consumers_reduce_what_is_left() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    first = drain(limiter, clock, 1)[0]
    limiter.observe(first, clock.now, remaining=100, reset=30.0)
    more = drain(limiter, clock, 3, step=0.01)
    # an answer to the 2nd request says only 10 are left (someone else is using the account)
    limiter.observe(more[0], clock.now, remaining=10, reset=29.0)
    times = drain(limiter, clock, 8, step=0.01)
    assert times[-1] < first + 30.0
    assert limiter.wait_time(clock.now) > 0  # 10 - 2 sent after it - 8 sent since = 0 left


def test_stale_answers_from_previous_window_are_ignored() -> None:
    clock = ManualClock()
    limiter = WindowLimiter(M, clock=clock)
    sent = drain(limiter, clock, 1)[0]
    limiter.observe(sent, clock.now, remaining=149, reset=1.0)
    clock.now += 1.0 + 2 * JITTER_SECONDS
    assert limiter.wait_time(clock.now) == 0
    new_sent = drain(limiter, clock, 1)[0]
    limiter.observe(new_sent, clock.now, remaining=149, reset=60.0)
    limiter.observe(sent, clock.now, remaining=0, reset=0.0)  # late answer of the old window
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
    assert limiter.wait_time(clock.now) == 3.0
    clock.now += 3.0
    assert limiter.wait_time(clock.now) == 0


async def test_acquire_serialises_concurrent_tasks() -> None:
    limiter = WindowLimiter(M, time_scale=100.0)

    async def call() -> float:
        sent = await limiter.acquire()
        await asyncio.sleep(0.001)  # the request's round trip
        limiter.done()
        return sent

    times = await asyncio.gather(*(call() for _ in range(25)))
    ordered = sorted(times)
    assert max_in_window(ordered, 0.01) <= M.burst
    assert ordered[-1] - ordered[0] >= 0.02


def test_shared_pacer_per_key_and_base_url() -> None:
    one = shared_pacer("http://127.0.0.1:1", "abc", 10.0)
    assert shared_pacer("http://127.0.0.1:1", "abc", 10.0) is one
    assert shared_pacer("http://127.0.0.1:1", "abd", 10.0) is not one
    assert one.limiter(GET_LIST_PROFILES) is one.limiter(GET_LIST_PROFILES)
    assert Pacer(1.0).limiter(GET_LIST_PROFILES).rate == L
