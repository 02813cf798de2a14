"""Fixed-window rate limits counted per account and per endpoint, in virtual time.

Each (account, bucket) has a burst window of 1 s and a steady window of 60 s (virtual seconds,
see :mod:`reconciler.sandbox.clock`); list creation also has a daily window. A throttled request
is not counted, so the budget frees exactly when the blocking window rolls over.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from reconciler.sandbox.clock import VirtualClock, whole_seconds
from reconciler.sandbox.config import Tier

BURST_WINDOW = 1.0
STEADY_WINDOW = 60.0
DAY_WINDOW = 86_400.0


@dataclass(frozen=True)
class Limit:
    """The windows one bucket is subject to: (limit, window length in virtual seconds)."""

    tier: Tier
    daily: int | None = None

    def windows(self) -> tuple[tuple[int, float], ...]:
        pairs = ((self.tier.burst, BURST_WINDOW), (self.tier.steady, STEADY_WINDOW))
        return (*pairs, (self.daily, DAY_WINDOW)) if self.daily else pairs


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole virtual seconds until the steady window resets
    retry_after: int = 0  # whole virtual seconds, when throttled


@dataclass
class _Counter:
    window: int = -1
    count: int = 0


@dataclass
class RateLimiter:
    clock: VirtualClock
    enabled: bool = True
    _counters: dict[tuple[str, str, float], _Counter] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, account: str, bucket: str, limit: Limit) -> Decision:
        """Count one request against ``bucket``, or refuse it with a ``Retry-After``."""
        now = self.clock.now()
        with self._lock:
            counters = [
                (self._counter(account, bucket, length, now), allowed, length)
                for allowed, length in limit.windows()
            ]
            blocked = [
                length - now % length
                for counter, allowed, length in counters
                if counter.count >= allowed
            ]
            steady_counter = counters[1][0]
            reset = whole_seconds(STEADY_WINDOW - now % STEADY_WINDOW)
            if self.enabled and blocked:
                remaining = max(0, limit.tier.steady - steady_counter.count)
                return Decision(
                    False, limit.tier.steady, remaining, reset, whole_seconds(max(blocked))
                )
            for counter, _, _ in counters:
                counter.count += 1
            remaining = max(0, limit.tier.steady - steady_counter.count)
            return Decision(True, limit.tier.steady, remaining, reset)

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()

    def _counter(self, account: str, bucket: str, length: float, now: float) -> _Counter:
        counter = self._counters.setdefault((account, bucket, length), _Counter())
        window = int(now // length)
        if counter.window != window:
            counter.window = window
            counter.count = 0
        return counter
