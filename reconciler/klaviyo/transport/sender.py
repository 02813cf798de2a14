"""The request loop: concurrency slot, pacing, send, classify, retry what is safe to retry.

Every wait (pacing, backoff, a 429's Retry-After) goes through :meth:`Sender.sleep`: one wait is
capped by the policy, a long one is reported (``on_wait``) and logged, and setting the
``interrupt`` event ends any wait at once with :class:`WaitInterrupted`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.klaviyo.endpoints import Endpoint
from reconciler.klaviyo.errors import (
    ErrorDetail,
    KlaviyoError,
    RateLimitedError,
    ResponseLostError,
    TransportError,
    WaitInterrupted,
    error_for_status,
)
from reconciler.klaviyo.models import ClientStats
from reconciler.klaviyo.pacing import Pacer, WindowLimiter
from reconciler.klaviyo.transport.retry import (
    MAYBE_DONE_STATUSES,
    RETRY_STATUSES,
    RetryPolicy,
    rate_headers,
    was_maybe_sent,
)

_READ = httpx.ByteStream(b"")  # stands in for the stream of a response already read
log = logging.getLogger("reconciler.klaviyo")
Params = Mapping[str, str | int]
NOTICE_SECONDS = 10.0  # waits of at least this many server seconds are reported


@dataclass(frozen=True)
class WaitNotice:
    """A long wait before retrying a request: what for, how long (server seconds)."""

    method: str
    path: str
    status: int | None  # the status that caused it (None: no answer)
    seconds: float  # what the client waits now
    advised: float  # what the server asked for (or the backoff)
    attempt: int
    waited: float  # waited for this request so far, this wait included

    def describe(self) -> str:
        cause = f"{self.status}" if self.status is not None else "no answer"
        asked = self.advised > self.seconds
        capped = f" (the server asked for {self.advised:g} s)" if asked else ""
        return (
            f"{self.method} {self.path}: {cause}; waiting {self.seconds:g} s before attempt "
            f"{self.attempt + 1}{capped}"
        )


WaitCallback = Callable[[WaitNotice], None]


class Sender:
    """Sends requests for one client; every request is paced, counted and retried safely."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        pacer: Pacer,
        policy: RetryPolicy,
        stats: ClientStats,
        max_concurrency: int,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self._http = http
        self._pacer = pacer
        self._policy = policy
        self.stats = stats
        self._slots = asyncio.Semaphore(max_concurrency)
        self.on_wait = on_wait
        self.interrupt: asyncio.Event | None = None

    @property
    def time_scale(self) -> float:
        return self._policy.time_scale

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    def use_pacer(self, pacer: Pacer) -> None:
        """Pace the following requests with ``pacer`` (the account's, once it is known)."""
        self._pacer = pacer

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` (real); raise :class:`WaitInterrupted` at once when interrupted."""
        event = self.interrupt
        if event is None:
            await asyncio.sleep(seconds)
            return
        if not event.is_set():
            try:
                await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))
            except TimeoutError:
                return
        raise WaitInterrupted("interrupted while waiting to send a request")

    async def request(
        self,
        endpoint: Endpoint,
        path: str,
        *,
        params: Params | None = None,
        body: bytes | None = None,
        idempotent: bool = True,
        url: httpx.URL | None = None,
    ) -> httpx.Response:
        """The successful response, or a typed error once retries are exhausted or not allowed.

        ``url`` (a cursor link) overrides path and params; errors still name only ``path``.

        With ``idempotent=False`` a request whose answer may have been lost (a dropped
        connection, or 503/504/524, which can come after the effect) raises
        :class:`ResponseLostError` instead of being sent again; a 429 is retried (a throttled
        request was not carried out).
        """
        limiter = self._pacer.limiter(endpoint)
        counters = self.stats.for_endpoint(endpoint.key)
        attempt = 0
        waited = 0.0  # server seconds
        while True:
            target, query = (url, None) if url is not None else (path, params)
            outcome = await self._send_once(limiter, endpoint.method, target, query, body)
            counters.requests += 1
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    return outcome
                if outcome.status_code == 429:
                    counters.throttled += 1
            wanted = self._retry_wait(endpoint, path, outcome, attempt, idempotent, waited)
            wait = min(wanted, self._policy.max_wait, self._policy.wait_budget - waited)
            waited += wait
            if outcome_is_429(outcome):
                limiter.block(self._policy.real(wait))
            counters.retries += 1
            attempt += 1
            self._report(endpoint, path, outcome, attempt, wait, wanted, waited)
            await self.sleep(self._policy.real(wait))

    def _report(
        self,
        endpoint: Endpoint,
        path: str,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        wait: float,
        wanted: float,
        waited: float,
    ) -> None:
        status = outcome.status_code if isinstance(outcome, httpx.Response) else None
        if wait < NOTICE_SECONDS and wanted <= wait:
            log.debug("retrying %s %s in %.2fs (attempt %d)", endpoint.method, path, wait, attempt)
            return
        notice = WaitNotice(endpoint.method, path, status, wait, wanted, attempt, waited)
        log.warning("%s", notice.describe())
        if self.on_wait is not None:
            self.on_wait(notice)

    async def _send_once(
        self,
        limiter: WindowLimiter,
        method: str,
        path: str | httpx.URL,
        params: Params | None,
        body: bytes | None,
    ) -> httpx.Response | httpx.TransportError:
        async with self._slots:
            ticket = await limiter.acquire(self.sleep)
            try:
                response = await self._http.request(method, path, params=params, content=body)
            except httpx.TransportError as exc:
                return exc
            finally:
                limiter.done()
            # httpx binds a response and its (already read) stream in a reference cycle: the
            # body would wait for the cyclic collector, and the command collects rarely
            response.stream = _READ
            headers = rate_headers(response, self._policy.time_scale)
            if headers is not None:
                limiter.observe(
                    ticket, limiter.now(), headers.remaining, headers.reset, headers.limit
                )
            return response

    def _retry_wait(
        self,
        endpoint: Endpoint,
        path: str,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        idempotent: bool,
        waited: float,
    ) -> float:
        """Server seconds to wait before the next attempt, or raise the error to give up with."""
        if isinstance(outcome, httpx.TransportError):
            if not idempotent and was_maybe_sent(outcome):
                raise ResponseLostError(
                    f"the answer was lost ({type(outcome).__name__}); the request may have "
                    "been processed",
                    method=endpoint.method,
                    path=path,
                )
            if attempt >= self._policy.max_retries or waited >= self._policy.wait_budget:
                raise TransportError(
                    f"no answer after {attempt + 1} attempt(s): {type(outcome).__name__}",
                    method=endpoint.method,
                    path=path,
                    hint="check the network and the base URL, then run again",
                )
            return self._policy.backoff(attempt) * self._policy.time_scale
        status = outcome.status_code
        if not idempotent and status in MAYBE_DONE_STATUSES:
            raise ResponseLostError(
                f"answered {status}, which can come after the request took effect",
                method=endpoint.method,
                path=path,
                status=status,
            )
        if status not in RETRY_STATUSES or attempt >= self._policy.max_retries:
            raise self._error(endpoint, path, outcome, attempt, waited)
        wanted = self._policy.wanted(attempt, outcome)
        if waited >= self._policy.wait_budget:
            raise self._error(endpoint, path, outcome, attempt, waited, wanted)
        return wanted

    def _error(
        self,
        endpoint: Endpoint,
        path: str,
        response: httpx.Response,
        attempt: int,
        waited: float,
        wanted: float | None = None,
    ) -> KlaviyoError:
        error = error_for_status(
            endpoint.method, path, response.status_code, parse_error_details(response)
        )
        if isinstance(error, RateLimitedError) and attempt:
            asked = f"; the server asks to wait {wanted:g} s more" if wanted is not None else ""
            error.hint = (
                f"still throttled after {attempt + 1} attempts and {waited:g} s of waiting"
                f"{asked}; " + error.hint
            )
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
