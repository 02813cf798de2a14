"""Reads a list's members concurrently: ``joined_group_at`` segments, each from both ends.

One cursor walks a list one page (100 members) at a time, so a single reader is bound by the
round trip, far below the L tier's 75 pages/s. The reader therefore

1. reads the first page sorted by ``joined_group_at`` (a small list ends here), then the first
   page sorted by ``-joined_group_at``: one segment spanning the list, read from both ends;
2. keeps enough cursor chains going for the measured round trip (the endpoint's burst rate
   times the latency; at least 16, at most ``workers``): while fewer run, it splits the segment
   with the widest unread span of time (if it likely holds more than a page) in the middle of
   that span, which adds two chains (see :mod:`reconciler.klaviyo.ranges`). Splits follow the
   pages as they arrive: a burst of members who joined together is soon one segment of its
   own, read from both of its ends, and the time between bursts is skipped by the filters.

Members who share one timestamp cannot be split apart by a filter: they are read by the two
chains of their segment, one from each end, so ``n`` such members take at least ``n / 200``
round trips (a list that joined in one instant: half the time of a single cursor).

The pages are gathered into Arrow arrays some thousands of members at a time
(:mod:`reconciler.klaviyo.columns`): a million members never exist as Python objects at once.
Members without an email (SMS-only profiles) are counted apart, by profile id: the list's
``profile_count`` includes them.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.klaviyo.columns import MemberColumnsBuilder
from reconciler.klaviyo.endpoints import GET_LIST_PROFILES
from reconciler.klaviyo.facts import PAGE_SIZE
from reconciler.klaviyo.jsonapi import data_list, document, filter_time, next_link
from reconciler.klaviyo.models import ListMembers
from reconciler.klaviyo.ranges import (
    MS,
    NEG,
    POS,
    Chain,
    Rows,
    Segment,
    parse_rows,
    whole_list,
)
from reconciler.klaviyo.transport.sender import Sender

FIELDS = "email,joined_group_at"
IN_FLIGHT_MARGIN = 1.25  # chains per request the burst rate allows during one round trip
MIN_CHAINS = 16  # however short the round trip (a page also costs CPU time on both sides)
ROUND_TRIPS_KEPT = 32  # the shortest of the latest round trips is the latency (no pacing wait)


class MemberReader:
    """One read of one list; ``read()`` returns every member (optionally: joined after X) as
    columns, each profile id once; members without an email are counted, not returned.

    ``burst_rate`` is the endpoint's burst limit in requests per real second (None: run
    ``workers`` chains whatever the latency)."""

    def __init__(
        self,
        sender: Sender,
        base_url: str,
        list_id: str,
        *,
        joined_after: int | None,
        on_page: Callable[[int], None] | None,
        workers: int,
        burst_rate: float | None = None,
    ) -> None:
        self._sender = sender
        self._base_url = base_url
        self._path = GET_LIST_PROFILES.path(id=list_id)
        # an incremental read starts at the first whole millisecond after ``joined_after``: a
        # member who joined later in that millisecond is missed here, and the plan's count
        # check then falls back to a full read; re-reading that millisecond's members every
        # time (a bulk import's thousands share one) would cost more
        self._from_us = None if joined_after is None else joined_after - joined_after % MS + MS
        self._on_page = on_page
        self._workers = max(2, workers)
        self._burst_rate = burst_rate
        self._segments: list[Segment] = []
        self._group: asyncio.TaskGroup | None = None
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)
        self._taken = 0
        self._covered_us = 0
        self._members = MemberColumnsBuilder()
        self._no_email: dict[str, int] = {}  # profile id -> joined_at (µs), first seen kept

    async def read(self) -> ListMembers:
        first = whole_list(self._from_us)
        for chain in (first.up, first.down):  # one after the other: a small list ends at once
            await self._step(chain)
            if first.done:
                return self._result()
        self._segments.append(first)
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self._start(first.up)
                self._start(first.down)
                self._fill()
        except BaseExceptionGroup as group_error:
            # callers catch KlaviyoError: surface the first chain's error, not the group
            raise group_error.exceptions[0] from None
        return self._result()

    def _result(self) -> ListMembers:
        newest = max(self._no_email.values(), default=None)
        return self._members.finish(len(self._no_email), newest)

    # -- chains ------------------------------------------------------------------------------

    def _start(self, chain: Chain) -> None:
        assert self._group is not None
        self._group.create_task(self._run(chain))

    async def _run(self, chain: Chain) -> None:
        while chain.segment is not None and not chain.segment.done:
            await self._step(chain)
            self._fill()
            await asyncio.sleep(0)  # let the other chains take their turn (an answer may come
            # without any real wait, e.g. in process)
        self._fill()

    async def _step(self, chain: Chain) -> None:
        """Read the chain's next page and take its members (unless the segment was read
        meanwhile: then the page holds nothing new)."""
        if chain.next_url is not None:
            body = await self._get(None, chain.next_url)
        else:
            body = await self._get(self._params(chain))
        segment = chain.segment
        if segment is None or segment.done:
            return
        before = chain.position
        following = next_link(body, self._base_url)
        rows = parse_rows(data_list(body))
        kept, finished = chain.accept(rows, segment.partner(chain), following is not None)
        chain.next_url = None if finished else following
        if kept and NEG < before < POS:
            self._covered_us += abs(chain.position - before)
        self._take(kept)
        if finished:
            segment.done = True

    def _take(self, rows: Rows) -> None:
        emails, ids, joined = [], [], []
        for pid, when, email in zip(rows.ids, rows.joined, rows.emails, strict=True):
            if email is None:
                self._no_email.setdefault(pid, when)
            else:
                emails.append(email)
                ids.append(pid)
                joined.append(when)
        self._members.extend(emails, ids, joined)
        self._taken += len(rows)
        if self._on_page is not None:
            self._on_page(len(rows))

    # -- splitting ---------------------------------------------------------------------------

    def _fill(self) -> None:
        """Split segments while fewer chains run than the round trip needs."""
        self._segments = [s for s in self._segments if not s.done]
        while 2 * len(self._segments) < self._target():
            widest = max(self._segments, key=Segment.gap, default=None)
            if widest is None or widest.gap() * self._density() < PAGE_SIZE:
                return
            upper = widest.split()
            self._segments.append(upper)
            self._start(widest.down)
            self._start(upper.up)

    def _target(self) -> int:
        """Chains to keep going: the requests the burst rate allows during one round trip."""
        if self._burst_rate is None or not self._round_trips:
            return self._workers
        wanted = math.ceil(self._burst_rate * min(self._round_trips) * IN_FLIGHT_MARGIN)
        return min(self._workers, max(MIN_CHAINS, wanted))

    def _density(self) -> float:
        """Members per microsecond of join time read so far (a segment's likely size)."""
        if self._covered_us <= 0:
            return float(PAGE_SIZE)  # nothing measured yet: worth splitting
        return self._taken / self._covered_us

    # -- requests ----------------------------------------------------------------------------

    def _params(self, chain: Chain) -> dict[str, str | int]:
        conditions = []
        # a chain's own bounds widen to whole milliseconds: what the wider filter lets in is
        # cut off by its limit or its partner's position
        if chain.lo is not None:
            conditions.append(f"greater-or-equal(joined_group_at,{filter_time(chain.lo)})")
        elif self._from_us is not None:
            conditions.append(f"greater-or-equal(joined_group_at,{filter_time(self._from_us)})")
        if chain.hi is not None:
            conditions.append(f"less-than(joined_group_at,{filter_time(chain.hi, round_up=True)})")
        params: dict[str, str | int] = {
            "fields[profile]": FIELDS,
            "page[size]": PAGE_SIZE,
            "sort": "-joined_group_at" if chain.descending else "joined_group_at",
        }
        if conditions:
            params["filter"] = ",".join(conditions)
        return params

    async def _get(self, params: dict[str, str | int] | None, url: httpx.URL | None = None) -> Any:
        started = time.monotonic()
        response = await self._sender.request(GET_LIST_PROFILES, self._path, params=params, url=url)
        self._round_trips.append(time.monotonic() - started)
        return document(response, "GET", self._path)
