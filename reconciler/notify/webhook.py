"""POST a JSON message to a webhook with a bounded number of retries; never raises.

The URL is a secret (a Slack webhook URL grants posting): it appears in no result or message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

ATTEMPTS = 3
TIMEOUT = 10.0
BACKOFF = 0.5  # seconds before the 2nd attempt, doubled before each further one
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class WebhookResult:
    sent: bool
    attempts: int
    problem: str | None = None


def post_webhook(
    url: str,
    body: dict[str, Any],
    *,
    attempts: int = ATTEMPTS,
    timeout: float = TIMEOUT,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookResult:
    """Send ``body``; retry connection errors, time-outs, 429 and 5xx, up to ``attempts``."""
    problem = "not sent"
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                sleep(backoff * 2 ** (attempt - 2))
            try:
                response = client.post(url, json=body)
            except httpx.HTTPError as exc:
                problem = f"could not reach the webhook ({type(exc).__name__})"
                continue
            if response.is_success:
                return WebhookResult(sent=True, attempts=attempt)
            problem = f"the webhook answered HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                return WebhookResult(sent=False, attempts=attempt, problem=problem)
    return WebhookResult(sent=False, attempts=attempts, problem=problem)
