"""Client-side pacing to Klaviyo's fixed rate windows, so that a normal run gets no 429.

Klaviyo counts requests per account and per endpoint in two fixed windows: a burst window of one
second and a steady window of one minute. A :class:`WindowLimiter` paces one endpoint:

- burst: a sliding log of the last ``burst`` send times; a send waits until the oldest is more
  than one (scaled) second old, plus a small margin for network jitter. A sliding window never
  exceeds the limit in any fixed window, wherever the server's windows start.
- steady: until the server's window is known, the same sliding log over 60 s. Once a response
  carries ``RateLimit-Remaining``/``RateLimit-Reset``, the limiter aligns with the server's
  window: it spends exactly what the server says remains and starts again the moment the next
  window opens (the optimum for fixed windows: 750 pages in the first minute, the rest right
  after). A window end the client only derived (not yet confirmed by a response) is never
  extended further: when it passes unconfirmed, pacing falls back to the sliding log.
- a 429's ``Retry-After`` blocks the endpoint for every task until it has passed.

One :class:`Pacer` holds the limiters of one account; :func:`shared_pacer` returns the
process-wide one for an API key, so every client and task of an account shares one budget.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

from reconciler.klaviyo.endpoints import Endpoint, Rate
from reconciler.klaviyo.errors import KlaviyoConfigError

Clock = Callable[[], float]
JITTER_SECONDS = 0.003
BURST_MARGIN = 0.05


class WindowLimiter:
    """Paces one (account, endpoint) to its burst and steady windows."""

    def __init__(self, rate: Rate, time_scale: float = 1.0, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst_window = 1.0 / time_scale
        self.steady_window = 60.0 / time_scale
        self._burst_gap = self.burst_window * (1 + BURST_MARGIN) + JITTER_SECONDS
        self._steady_gap = self.steady_window + JITTER_SECONDS
        self._clock = clock
        self._burst: deque[float] = deque(maxlen=rate.burst)
        self._sent: deque[float] = deque(maxlen=rate.steady)
        self._server_end: float | None = None
        self._server_left = 0
        self._confirmed = False
        self._blocked_until = 0.0
        self.in_flight = 0

    @property
    def aligned(self) -> bool:
        """True while the steady window follows the server's reported window."""
        return self._server_end is not None

    def now(self) -> float:
        return self._clock()

    def wait_time(self, now: float) -> float:
        """Seconds to wait before a request may be sent at ``now`` (0: send now)."""
        self._roll(now)
        wait = self._blocked_until - now
        if len(self._burst) == self.rate.burst:
            wait = max(wait, self._burst[0] + self._burst_gap - now)
        if self._server_end is not None:
            if self._server_left <= 0:
                wait = max(wait, self._server_end + JITTER_SECONDS - now)
        elif len(self._sent) == self.rate.steady:
            wait = max(wait, self._sent[0] + self._steady_gap - now)
        return max(wait, 0.0)

    def take(self, now: float) -> None:
        """Record a request sent at ``now``."""
        self._burst.append(now)
        self._sent.append(now)
        self._server_left -= 1
        self.in_flight += 1

    def done(self) -> None:
        """A request recorded with :meth:`take` got its answer (or failed)."""
        self.in_flight = max(0, self.in_flight - 1)

    async def acquire(self) -> float:
        """Wait for a free slot, take it, return the send time."""
        while True:
            now = self._clock()
            delay = self.wait_time(now)
            if delay <= 0:
                self.take(now)
                return now
            await asyncio.sleep(delay)

    def block(self, seconds: float) -> None:
        """Send nothing on this endpoint for ``seconds`` (a 429's Retry-After)."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def observe(self, sent_at: float, received_at: float, remaining: int, reset: float) -> None:
        """Align with the server: ``remaining`` requests until its window ends ``reset`` s later.

        ``reset`` must be an upper bound, in real seconds, of the time left in the window.
        """
        end = received_at + reset
        left = remaining - self._sent_since(sent_at)
        half = self.steady_window / 2
        current = self._server_end
        if current is None or end > current + half:
            self._server_end, self._server_left = end, left
        elif end < current - half:
            return  # an answer from the previous window
        elif not self._confirmed:
            self._server_end, self._server_left = end, min(self._server_left, left)
        else:
            self._server_end = min(current, end)
            self._server_left = min(self._server_left, left)
        self._confirmed = True

    def _sent_since(self, sent_at: float) -> int:
        """Requests sent after the one sent at ``sent_at`` (ties count as after it)."""
        count = 0
        for t in reversed(self._sent):
            if t < sent_at:
                break
            count += 1
        return max(0, count - 1)

    def _roll(self, now: float) -> None:
        end = self._server_end
        if end is None or now < end:
            return
        if self._confirmed and now < end + self.steady_window:
            self._server_end = end + self.steady_window
            self._server_left = self.rate.steady - self.in_flight
            self._confirmed = False
        else:
            self._server_end = None
            self._confirmed = False


class Pacer:
    """The limiters of one account, one per endpoint; shared by all its clients and tasks."""

    def __init__(self, time_scale: float = 1.0, clock: Clock = time.monotonic) -> None:
        check_time_scale(time_scale)
        self.time_scale = time_scale
        self._clock = clock
        self._limiters: dict[str, WindowLimiter] = {}
        self._lock = threading.Lock()

    def limiter(self, endpoint: Endpoint) -> WindowLimiter:
        with self._lock:
            found = self._limiters.get(endpoint.key)
            if found is None:
                found = WindowLimiter(endpoint.rate, self.time_scale, self._clock)
                self._limiters[endpoint.key] = found
            return found


def check_time_scale(time_scale: float) -> None:
    if not isinstance(time_scale, int | float) or not 0 < time_scale <= 10_000:
        raise KlaviyoConfigError(
            f"time_scale must be a number in (0, 10000], got {time_scale!r}",
            hint="use 1.0 against Klaviyo; larger values only against the sandbox",
        )


_REGISTRY: dict[tuple[str, str, float], Pacer] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_pacer(base_url: str, key_fingerprint: str, time_scale: float) -> Pacer:
    """The process-wide pacer of the account behind a key (by its fingerprint)."""
    key = (base_url, key_fingerprint, float(time_scale))
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is None:
            found = _REGISTRY[key] = Pacer(time_scale)
        return found
