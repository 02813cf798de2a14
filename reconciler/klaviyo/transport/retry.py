"""What to retry and how long to wait: Retry-After, then Klaviyo's "Expected available in N
second(s)" detail, then exponential backoff with jitter.

Every duration a server reports is in the server's seconds; the client's ``time_scale`` (an
explicit option: 1.0 against Klaviyo, the sandbox's scale against the sandbox) turns them into
real seconds. The same code runs against both: nothing here looks at who answered.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import httpx

# As the official SDK: 429, 503, 504, 524 (a Cloudflare time-out) and connection resets; never
# 502 (a bad gateway answers again the same way).
RETRY_STATUSES = frozenset({429, 503, 504, 524})
# Statuses that can come after a write took effect: a create is looked up before it is re-sent.
MAYBE_DONE_STATUSES = frozenset({503, 504, 524})
DEFAULT_MAX_WAIT = 120.0
DEFAULT_WAIT_BUDGET = 300.0
# Klaviyo reports RateLimit-Reset in whole seconds with unknown rounding: one more second keeps
# the bound from being early.
RESET_SLACK = 1.0
_EXPECTED = re.compile(r"available in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def was_maybe_sent(exc: httpx.TransportError) -> bool:
    """False when the request certainly never reached the server (connect failures)."""
    return not isinstance(exc, _NOT_SENT)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def advised_seconds(response: httpx.Response) -> float | None:
    """Server seconds the server asks us to wait, from Retry-After or the error detail."""
    seconds = _number(response.headers.get("Retry-After"))
    return seconds if seconds is not None else _expected_from_detail(response)


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
    """Bounded retries; backoff is base * 2**attempt, capped, randomised in its upper half.

    ``max_wait`` caps one wait and ``wait_budget`` all the waits of one request (both in server
    seconds): a server asking for an hour is waited on at most ``max_wait`` at a time, and the
    request fails with the server's reason once the budget is spent.
    """

    max_retries: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    time_scale: float = 1.0
    max_wait: float = DEFAULT_MAX_WAIT
    wait_budget: float = DEFAULT_WAIT_BUDGET

    def backoff(self, attempt: int) -> float:
        """Real seconds of the ``attempt``-th backoff."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling) / self.time_scale

    def wanted(self, attempt: int, response: httpx.Response | None) -> float:
        """Server seconds to wait before the next attempt, as the server advises (uncapped)."""
        advised = advised_seconds(response) if response is not None else None
        if advised is not None:
            return advised
        return self.backoff(attempt) * self.time_scale

    def real(self, server_seconds: float) -> float:
        return server_seconds / self.time_scale


@dataclass(frozen=True)
class RateHeaders:
    """``RateLimit-Limit/Remaining/Reset`` of a response; ``reset`` in real seconds."""

    limit: int | None
    remaining: int
    reset: float


def rate_headers(response: httpx.Response, time_scale: float) -> RateHeaders | None:
    remaining = _number(response.headers.get("RateLimit-Remaining"))
    reset = _number(response.headers.get("RateLimit-Reset"))
    if remaining is None or reset is None:
        return None
    limit = _number(response.headers.get("RateLimit-Limit"))
    real_reset = (reset + RESET_SLACK) / time_scale
    known = None if limit is None or limit < 1 else int(limit)
    return RateHeaders(known, int(remaining), real_reset)
