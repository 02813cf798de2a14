"""Client-side pacing to Klaviyo's fixed rate windows, so that a normal run gets no 429.

Klaviyo counts requests per account and per endpoint in two fixed windows: a burst window of one
second and a steady window of one minute. A :class:`WindowLimiter` paces one endpoint:

- A request counts from the moment it is sent until one window length after its answer came
  back (the server saw it at some point in between). A new request may go out only while fewer
  than ``limit`` requests count: then no fixed window of the server, wherever it starts, can
  hold more than ``limit`` of them, whatever the network latency.
- burst: that rule over one (scaled) second.
- steady: the same rule over 60 s until the server's window is known. Once a response carries
  ``RateLimit-Remaining``/``RateLimit-Reset``, the limiter aligns with the server's window: it
  spends what the server says remains and starts again the moment the next window opens
  (the optimum for fixed windows: a whole window's pages in the first minute, the rest right
  after). A window end the client only derived (not yet confirmed by a response) is never
  extended further: when it passes unconfirmed, pacing falls back to the sliding rule.
- the server's word wins over the built-in tier: a ``RateLimit-Limit`` that differs from it
  becomes the steady limit. ``RateLimit-Remaining`` is approximate (Klaviyo's docs say so, off
  by up to ``remaining_error`` of the limit): within a window the limiter counts what it sent
  itself, and follows the server's figure only where that figure rules its own count out
  (someone else spends the account's budget, or the window count was off).
- a 429's ``Retry-After`` blocks the endpoint for every task until it has passed; a wait longer
  than a burst window re-aligns the steady window to end then, with nothing left before it.

One :class:`Pacer` holds the limiters of one account. A :class:`PacerRegistry` belongs to one run
(the run creates it and gives it to every client it opens): clients of one account in that run
share one pacer, so they share one budget; two runs in one process do not share anything.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from reconciler.klaviyo.endpoints import Endpoint, Rate
from reconciler.klaviyo.errors import KlaviyoConfigError
from reconciler.klaviyo.jobqueue import AccountJobs

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
JITTER_SECONDS = 0.001
WINDOW_MARGIN = 0.01
POLL_SECONDS = 0.005
# How far RateLimit-Remaining may be off, as a share of the limit, either way (Klaviyo: "the
# approximate number of requests remaining"; the sandbox's --remaining-noise models it).
REMAINING_ERROR = 0.1


@dataclass(frozen=True, slots=True)
class Ticket:
    """One request's slot: when it was sent, and how many answers had come back by then."""

    sent_at: float
    index: int
    answered_before: int


class WindowLimiter:
    """Paces one (account, endpoint) to its burst and steady windows."""

    def __init__(
        self,
        rate: Rate,
        time_scale: float = 1.0,
        clock: Clock = time.monotonic,
        remaining_error: float = REMAINING_ERROR,
    ) -> None:
        self.rate = rate
        self.steady = rate.steady  # the server's RateLimit-Limit once it reported one
        self.remaining_error = remaining_error
        self.burst_window = 1.0 / time_scale
        self.steady_window = 60.0 / time_scale
        self._burst_gap = self.burst_window * (1 + WINDOW_MARGIN) + JITTER_SECONDS
        self._steady_gap = self.steady_window * (1 + WINDOW_MARGIN) + JITTER_SECONDS
        self._clock = clock
        # answer times, in order; only the last ``limit`` can matter (see _window_wait)
        self._burst_done: deque[float] = deque(maxlen=rate.burst)
        self._steady_done: deque[float] = deque(maxlen=rate.steady)
        self._taken = 0
        self._answered = 0
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
        wait = max(wait, self._window_wait(self._burst_done, self.rate.burst, self._burst_gap, now))
        if self._server_end is not None:
            if self._server_left <= 0:
                wait = max(wait, self._server_end + JITTER_SECONDS - now)
        else:
            steady = self._window_wait(self._steady_done, self.steady, self._steady_gap, now)
            wait = max(wait, steady)
        return max(wait, 0.0)

    def _window_wait(self, done: deque[float], limit: int, gap: float, now: float) -> float:
        """Wait until fewer than ``limit`` requests are in flight or answered within ``gap``."""
        while done and done[0] <= now - gap:
            done.popleft()
        count = self.in_flight + len(done)
        if count < limit:
            return 0.0
        expire = count - limit + 1  # answered requests that must age out first
        if expire <= len(done):
            return done[expire - 1] + gap - now
        return min(gap, POLL_SECONDS)  # waiting for answers still in flight

    def take(self, now: float) -> Ticket:
        """Record a request sent at ``now``."""
        ticket = Ticket(now, self._taken, self._answered)
        self._taken += 1
        self._server_left -= 1
        self.in_flight += 1
        return ticket

    def done(self, now: float | None = None) -> None:
        """A request recorded with :meth:`take` got its answer (or failed) at ``now``."""
        answered = self._clock() if now is None else now
        self.in_flight = max(0, self.in_flight - 1)
        self._answered += 1
        self._burst_done.append(answered)
        self._steady_done.append(answered)

    async def acquire(self, sleep: Sleep = asyncio.sleep) -> Ticket:
        """Wait for a free slot (with ``sleep``) and take it."""
        while True:
            now = self._clock()
            delay = self.wait_time(now)
            if delay <= 0:
                return self.take(now)
            await sleep(delay)

    def block(self, seconds: float) -> None:
        """Send nothing on this endpoint for ``seconds`` (a 429's Retry-After).

        A wait longer than a burst window is the steady window's: it ends then, and nothing is
        left in it until then (the server said so; whatever the limiter believed)."""
        now = self._clock()
        self._blocked_until = max(self._blocked_until, now + seconds)
        if seconds > 2 * self.burst_window:
            self._server_end = now + seconds
            self._server_left = 0
            self._confirmed = True

    def observe(
        self,
        ticket: Ticket,
        received_at: float,
        remaining: int,
        reset: float,
        limit: int | None = None,
    ) -> None:
        """Align with the server: ``remaining`` requests until its window ends ``reset`` s later.

        ``reset`` must be an upper bound, in real seconds, of the time left in the window;
        ``limit`` is the server's steady limit (``RateLimit-Limit``), if it said.
        """
        if limit is not None and limit != self.steady:
            self._set_steady(limit)
        end = received_at + reset
        half = self.steady_window / 2
        current = self._server_end
        if current is not None and end < current - half:
            return  # an answer from the previous window
        if current is None or end > current + half:
            # a window the limiter did not know yet: ours in it are at most those not answered
            # before this request was sent (all of them for the first window seen)
            ours = self._taken - (ticket.answered_before if current is not None else 0)
            self._server_end, own = end, self.steady - ours
        else:
            self._server_end, own = min(current, end), self._server_left
        self._server_left = self._reconcile(own, remaining, self._maybe_uncounted(ticket))
        self._confirmed = True

    def _reconcile(self, own: int, remaining: int, uncounted: int) -> int:
        """What is left from now: the limiter's own count, unless the server's report (off by
        up to ``remaining_error`` of the limit either way) rules it out; then the least the
        report allows (someone else spends the account's budget too, or the count was off)."""
        error = round(self.remaining_error * self.steady)
        lowest = remaining - error - uncounted  # the requests in flight may all count still
        if lowest <= own <= remaining + error:
            return own
        return lowest

    def _set_steady(self, limit: int) -> None:
        self.steady = limit
        self._steady_done = deque(self._steady_done, maxlen=limit)

    def _maybe_uncounted(self, ticket: Ticket) -> int:
        """Our other requests the server may not have counted when it answered ``ticket``'s:
        all but those answered before it was sent (answers arrive in any order)."""
        return max(0, self._taken - 1 - ticket.answered_before)

    def _roll(self, now: float) -> None:
        end = self._server_end
        if end is None or now < end:
            return
        if self._confirmed and now < end + self.steady_window:
            self._server_end = end + self.steady_window
            self._server_left = self.steady - self.in_flight
            self._confirmed = False
        else:
            self._server_end = None
            self._confirmed = False


class Pacer:
    """The limiters of one account, one per endpoint, and its import jobs of the run; shared by
    all its clients and tasks."""

    def __init__(
        self,
        time_scale: float = 1.0,
        clock: Clock = time.monotonic,
        remaining_error: float = REMAINING_ERROR,
    ) -> None:
        check_time_scale(time_scale)
        self.time_scale = time_scale
        self.remaining_error = remaining_error
        self._clock = clock
        self._limiters: dict[str, WindowLimiter] = {}
        self._lock = threading.Lock()
        self.jobs = AccountJobs()  # the run's import jobs of the account, and their pace

    def limiter(self, endpoint: Endpoint) -> WindowLimiter:
        with self._lock:
            found = self._limiters.get(endpoint.key)
            if found is None:
                found = WindowLimiter(
                    endpoint.rate, self.time_scale, self._clock, self.remaining_error
                )
                self._limiters[endpoint.key] = found
            return found


def check_time_scale(time_scale: float) -> None:
    if not isinstance(time_scale, int | float) or not 0 < time_scale <= 10_000:
        raise KlaviyoConfigError(
            f"time_scale must be a number in (0, 10000], got {time_scale!r}",
            hint="use 1.0 against Klaviyo; larger values only against the sandbox",
        )


class PacerRegistry:
    """The pacers of one run, by (base URL, owner, time scale).

    The owner is a key's fingerprint until the account behind it is known, then
    ``account:<id>`` (all keys of an account share its limits); ``account:unknown`` paces the
    first call of every key together. A run creates one registry and gives it to every client
    it opens; nothing is shared across runs.
    """

    def __init__(self, remaining_error: float = REMAINING_ERROR) -> None:
        self.remaining_error = remaining_error
        self._pacers: dict[tuple[str, str, float], Pacer] = {}
        self._lock = threading.Lock()

    def pacer(self, base_url: str, owner: str, time_scale: float) -> Pacer:
        key = (base_url, owner, float(time_scale))
        with self._lock:
            found = self._pacers.get(key)
            if found is None:
                found = Pacer(time_scale, remaining_error=self.remaining_error)
                self._pacers[key] = found
            return found
