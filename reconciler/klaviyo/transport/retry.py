"""What to retry and how long to wait: Retry-After, then Klaviyo's "Expected available in N
second(s)" detail, then exponential backoff with jitter (all scaled by the time scale)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import httpx

RETRY_STATUSES = frozenset({429, 503, 504})
_EXPECTED = re.compile(r"available in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)
SCALE_HEADER = "X-Sandbox-Time-Scale"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def was_maybe_sent(exc: httpx.TransportError) -> bool:
    """False when the request certainly never reached the server (connect failures)."""
    return not isinstance(exc, _NOT_SENT)


def server_scale(response: httpx.Response) -> float:
    """The sandbox's time scale (1.0 for Klaviyo): server durations are divided by it."""
    try:
        scale = float(response.headers.get(SCALE_HEADER, "1"))
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def advised_wait(response: httpx.Response) -> float | None:
    """Real seconds the server asks us to wait, from Retry-After or the error detail."""
    seconds = _number(response.headers.get("Retry-After"))
    if seconds is None:
        seconds = _expected_from_detail(response)
    return None if seconds is None else seconds / server_scale(response)


def _expected_from_detail(response: httpx.Response) -> float | None:
    try:
        body = response.json()
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors if isinstance(errors, list) else []:
        detail = error.get("detail") if isinstance(error, dict) else None
        found = _EXPECTED.search(detail) if isinstance(detail, str) else None
        if found:
            return float(found.group(1))
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries; backoff is base * 2**attempt, capped, randomised in its upper half."""

    max_retries: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    time_scale: float = 1.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling) / self.time_scale

    def delay_after(self, attempt: int, response: httpx.Response | None) -> float:
        advised = advised_wait(response) if response is not None else None
        return advised if advised is not None else self.backoff(attempt)


@dataclass(frozen=True)
class RateHeaders:
    """``RateLimit-Limit/Remaining/Reset`` of a response; ``reset`` in real seconds."""

    limit: int | None
    remaining: int
    reset: float


def rate_headers(response: httpx.Response) -> RateHeaders | None:
    remaining = _number(response.headers.get("RateLimit-Remaining"))
    reset = _number(response.headers.get("RateLimit-Reset"))
    if remaining is None or reset is None:
        return None
    limit = _number(response.headers.get("RateLimit-Limit"))
    is_sandbox = SCALE_HEADER in response.headers
    # Klaviyo reports whole seconds with unknown rounding: add one so the bound is never early.
    slack = 0.0 if is_sandbox else 1.0
    real_reset = (reset + slack) / server_scale(response)
    return RateHeaders(None if limit is None else int(limit), int(remaining), real_reset)
