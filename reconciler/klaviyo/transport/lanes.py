"""Connections in small pools ("lanes"): the client's CPU per request stays flat however many
requests are in flight.

httpcore's connection pool re-examines every connection it holds each time a request enters
or leaves it (for every idle connection it also counts all of them, and polls the socket of
each to see whether it expired): a pool of ``n`` connections costs ``O(n²)`` work per request.
With the 64 connections a member read keeps busy at Klaviyo's latency, that bookkeeping took
more CPU than parsing the pages (about 40% of a 100,000-member read's client time). A
:class:`LaneTransport` holds ``LANE_SIZE`` connections per pool instead and sends each request
through the pool with the fewest requests in flight: the same number of connections, a fraction
of the bookkeeping. The lanes share one TLS context (loading the CA bundle once).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from types import TracebackType

import httpx

LANE_SIZE = 4  # connections per pool: pool bookkeeping costs about LANE_SIZE² per request


class LaneTransport(httpx.AsyncBaseTransport):
    """``max_connections`` connections as pools of at most ``LANE_SIZE`` each."""

    def __init__(self, max_connections: int) -> None:
        count = max(1, math.ceil(max_connections / LANE_SIZE))
        size = math.ceil(max_connections / count)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        context = httpx.create_ssl_context()
        self._lanes = [
            httpx.AsyncHTTPTransport(verify=context, limits=limits) for _ in range(count)
        ]
        self._busy = [0] * count

    @property
    def lanes(self) -> int:
        return len(self._lanes)

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Requests in flight per lane (sent and not yet closed)."""
        return tuple(self._busy)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._lanes)), key=self._busy.__getitem__)
        self._busy[index] += 1
        release = _Release(self._busy, index)
        try:
            response = await self._lanes[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _LaneStream(response.stream, release)
        else:  # not from an async pool (never so): nothing will close it in the loop
            release()
        return response

    async def aclose(self) -> None:
        for lane in self._lanes:
            await lane.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class _Release:
    """Counts a request out of its lane, once."""

    def __init__(self, busy: list[int], index: int) -> None:
        self._busy = busy
        self._index: int | None = index

    def __call__(self) -> None:
        if self._index is not None:
            self._busy[self._index] -= 1
            self._index = None


class _LaneStream(httpx.AsyncByteStream):
    """A response body that counts its request out of the lane once it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: _Release) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()
