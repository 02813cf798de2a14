"""The sandbox's notion of time under a time scale.

With ``time_scale`` N, *virtual* (Klaviyo) time runs N times faster than real time: a 1 s burst
window lasts 1/N real seconds, a 60 s steady window 60/N, a job that would take 10 s takes 10/N.
Every number the sandbox reports in headers (``Retry-After``, ``RateLimit-Reset``) is in whole
*virtual* seconds, so a client paced with the same scale sleeps ``value / N`` real seconds and is
never early. ``X-Sandbox-Time-Scale`` on every response tells clients the scale in use.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class VirtualClock:
    """Monotonic virtual seconds since the sandbox started, ``time_scale`` times real time."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._origin = time.monotonic()
        self._virtual_at_origin = 0.0

    def now(self) -> float:
        return self._virtual_at_origin + (time.monotonic() - self._origin) * self.time_scale

    def real_at(self, virtual_seconds: float) -> float:
        """The ``time.monotonic()`` reading at which virtual time reaches ``virtual_seconds``."""
        return self._origin + (virtual_seconds - self._virtual_at_origin) / self.time_scale

    def set_scale(self, time_scale: float) -> None:
        """Run at ``time_scale`` from now on; virtual time goes on from where it is (rate
        windows already open keep their counts and end at the same virtual moment)."""
        if time_scale <= 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale}")
        real = time.monotonic()
        self._virtual_at_origin += (real - self._origin) * self.time_scale
        self._origin = real
        self.time_scale = time_scale

    def real_seconds(self, virtual_seconds: float) -> float:
        return virtual_seconds / self.time_scale


def whole_seconds(virtual_seconds: float) -> int:
    """Round a virtual duration up to whole seconds, at least 1 (the ``Retry-After`` form)."""
    return max(1, math.ceil(virtual_seconds - 1e-9))


def utc_now_us() -> int:
    """Wall-clock UTC time in integer microseconds (timestamps are never scaled)."""
    return time.time_ns() // 1000


@lru_cache(maxsize=65_536)  # members seeded or imported together share their join time
def iso_from_us(micros: int) -> str:
    """``2026-01-01T00:00:00.123456+00:00``, or ``2026-01-01T00:00:00+00:00`` on a whole second:
    the forms of the spec's examples and descriptions (``YYYY-MM-DDTHH:MM:SS.mmmmmm``, offset
    ``+00:00``). A client must parse both; a fixed-width parser breaks on whole seconds."""
    moment = EPOCH + timedelta(microseconds=micros)
    return moment.isoformat()


def us_from_datetime(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
