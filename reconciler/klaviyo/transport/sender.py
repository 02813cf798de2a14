"""The request loop: concurrency slot, pacing, send, classify, retry what is safe to retry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.klaviyo.endpoints import Endpoint
from reconciler.klaviyo.errors import (
    ErrorDetail,
    KlaviyoError,
    RateLimitedError,
    ResponseLostError,
    TransportError,
    error_for_status,
)
from reconciler.klaviyo.models import ClientStats
from reconciler.klaviyo.pacing import Pacer, WindowLimiter
from reconciler.klaviyo.transport.retry import (
    RETRY_STATUSES,
    RetryPolicy,
    rate_headers,
    was_maybe_sent,
)

_READ = httpx.ByteStream(b"")  # stands in for the stream of a response already read
log = logging.getLogger("reconciler.klaviyo")
Params = Mapping[str, str | int]


class Sender:
    """Sends requests for one client; every request is paced, counted and retried safely."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        pacer: Pacer,
        policy: RetryPolicy,
        stats: ClientStats,
        max_concurrency: int,
    ) -> None:
        self._http = http
        self._pacer = pacer
        self._policy = policy
        self.stats = stats
        self._slots = asyncio.Semaphore(max_concurrency)

    def use_pacer(self, pacer: Pacer) -> None:
        """Pace the following requests with ``pacer`` (the account's, once it is known)."""
        self._pacer = pacer

    async def request(
        self,
        endpoint: Endpoint,
        path: str,
        *,
        params: Params | None = None,
        body: bytes | None = None,
        idempotent: bool = True,
        url: str | None = None,
    ) -> httpx.Response:
        """The successful response, or a typed error once retries are exhausted or not allowed.

        ``url`` (a cursor link) overrides path and params; errors still name only ``path``.

        With ``idempotent=False`` a request whose answer may have been lost raises
        :class:`ResponseLostError` instead of being sent again.
        """
        limiter = self._pacer.limiter(endpoint)
        counters = self.stats.for_endpoint(endpoint.key)
        attempt = 0
        while True:
            target, query = (url, None) if url else (path, params)
            outcome = await self._send_once(limiter, endpoint.method, target, query, body)
            counters.requests += 1
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    return outcome
                if outcome.status_code == 429:
                    counters.throttled += 1
            delay = self._retry_delay(endpoint, path, outcome, attempt, idempotent)
            if outcome_is_429(outcome):
                limiter.block(delay)
            counters.retries += 1
            attempt += 1
            log.debug("retrying %s %s in %.2fs (attempt %d)", endpoint.method, path, delay, attempt)
            await asyncio.sleep(delay)

    async def _send_once(
        self,
        limiter: WindowLimiter,
        method: str,
        path: str,
        params: Params | None,
        body: bytes | None,
    ) -> httpx.Response | httpx.TransportError:
        async with self._slots:
            ticket = await limiter.acquire()
            try:
                response = await self._http.request(method, path, params=params, content=body)
            except httpx.TransportError as exc:
                return exc
            finally:
                limiter.done()
            # httpx binds a response and its (already read) stream in a reference cycle: the
            # body would wait for the cyclic collector, and the command collects rarely
            response.stream = _READ
            headers = rate_headers(response)
            if headers and headers.limit in (None, limiter.rate.steady):
                limiter.observe(ticket, limiter.now(), headers.remaining, headers.reset)
            return response

    def _retry_delay(
        self,
        endpoint: Endpoint,
        path: str,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        idempotent: bool,
    ) -> float:
        """Seconds to wait before the next attempt, or raise the error to give up with."""
        if isinstance(outcome, httpx.TransportError):
            if not idempotent and was_maybe_sent(outcome):
                raise ResponseLostError(
                    f"the answer was lost ({type(outcome).__name__}); the request may have "
                    "been processed",
                    method=endpoint.method,
                    path=path,
                )
            if attempt >= self._policy.max_retries:
                raise TransportError(
                    f"no answer after {attempt + 1} attempt(s): {type(outcome).__name__}",
                    method=endpoint.method,
                    path=path,
                    hint="check the network and the base URL, then run again",
                )
            return self._policy.backoff(attempt)
        status = outcome.status_code
        if status not in RETRY_STATUSES or attempt >= self._policy.max_retries:
            raise self._error(endpoint, path, outcome, attempt)
        return self._policy.delay_after(attempt, outcome)

    def _error(
        self, endpoint: Endpoint, path: str, response: httpx.Response, attempt: int
    ) -> KlaviyoError:
        error = error_for_status(
            endpoint.method, path, response.status_code, parse_error_details(response)
        )
        if isinstance(error, RateLimitedError) and attempt:
            error.hint = f"still throttled after {attempt + 1} attempts; " + error.hint
        return error


def outcome_is_429(outcome: httpx.Response | httpx.TransportError) -> bool:
    return isinstance(outcome, httpx.Response) and outcome.status_code == 429


def parse_error_details(response: httpx.Response) -> list[ErrorDetail]:
    """The JSON:API ``errors`` of an error response (empty if the body is not JSON:API)."""
    try:
        body: Any = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [_detail(e) for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _detail(raw: Mapping[str, Any]) -> ErrorDetail:
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    status = raw.get("status")
    try:
        code = int(status) if status is not None else None
    except (TypeError, ValueError):
        code = None
    return ErrorDetail(
        status=code,
        code=str(raw.get("code") or ""),
        title=str(raw.get("title") or ""),
        detail=str(raw.get("detail") or ""),
        pointer=_text(source.get("pointer")) if source else None,
        parameter=_text(source.get("parameter")) if source else None,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
