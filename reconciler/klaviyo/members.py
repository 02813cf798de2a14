"""Reads a list's members concurrently over ``joined_group_at`` ranges.

One cursor walks a list one page (100 members) at a time, so a single reader is bound by the
round trip, far below the L tier's 75 pages/s. The reader therefore

1. reads the first page sorted by ``joined_group_at`` (a small list ends here) and the last
   member (``sort=-joined_group_at``, ``page[size]=1``);
2. splits the remaining time span into one range per worker, each followed with its own cursor
   (filter ``greater-or-equal``/``less-than`` on ``joined_group_at``);
3. when a worker runs out of ranges, it steals the upper half of the range with the most members
   left (estimated from the density seen so far); the victim stops at the new bound, dropping
   the few members of its current page beyond it.

Members who share one timestamp cannot be split apart: they are read by one cursor.

The ranges' pages are gathered into Arrow arrays some thousands of members at a time
(:mod:`reconciler.klaviyo.columns`): a million members never exist as Python objects at once.
Members without an email (SMS-only profiles) are counted apart, by profile id: the list's
``profile_count`` includes them.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.klaviyo.columns import MemberColumnsBuilder
from reconciler.klaviyo.endpoints import GET_LIST_PROFILES
from reconciler.klaviyo.facts import PAGE_SIZE
from reconciler.klaviyo.jsonapi import data_list, document, filter_time, next_link, to_micros
from reconciler.klaviyo.models import ListMembers
from reconciler.klaviyo.transport.sender import Sender

FIELDS = "email,joined_group_at"
_fromiso = datetime.fromisoformat


@dataclass
class _Range:
    lo: int
    hi: int
    position: int
    next_url: str | None = None
    seen: int = 0

    def density(self) -> float | None:
        covered = self.position - self.lo
        return self.seen / covered if self.seen and covered > 0 else None


@dataclass
class Page:
    """One page's members, parsed lightly: the rows with an email (lower-cased) and the
    profile ids and join times (µs) of the members without one."""

    emails: list[str] = field(default_factory=list)
    profile_ids: list[str] = field(default_factory=list)
    joined_us: list[int] = field(default_factory=list)
    no_email_ids: list[str] = field(default_factory=list)
    no_email_joined_us: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.emails) + len(self.no_email_ids)

    def last_joined(self) -> int | None:
        """The latest join time on the page (pages come sorted by join time)."""
        times = [t[-1] for t in (self.joined_us, self.no_email_joined_us) if t]
        return max(times, default=None)

    def below(self, hi: int, lo: int | None = None) -> Page:
        """The page without the members who joined at or after ``hi`` (or before ``lo``)."""
        low = -(1 << 62) if lo is None else lo
        keep = [i for i, t in enumerate(self.joined_us) if low <= t < hi]
        keep_none = [i for i, t in enumerate(self.no_email_joined_us) if low <= t < hi]
        return Page(
            [self.emails[i] for i in keep],
            [self.profile_ids[i] for i in keep],
            [self.joined_us[i] for i in keep],
            [self.no_email_ids[i] for i in keep_none],
            [self.no_email_joined_us[i] for i in keep_none],
        )


class MemberReader:
    """One read of one list; ``read()`` returns every member (optionally: joined after X) as
    columns, each profile id once; members without an email are counted, not returned."""

    def __init__(
        self,
        sender: Sender,
        base_url: str,
        list_id: str,
        *,
        joined_after: int | None,
        on_page: Callable[[int], None] | None,
        workers: int,
    ) -> None:
        self._sender = sender
        self._base_url = base_url
        self._path = GET_LIST_PROFILES.path(id=list_id)
        self._after = joined_after
        self._on_page = on_page
        self._workers = max(1, workers)
        self._ranges: list[_Range] = []
        self._pending: list[_Range] = []
        self._active: set[int] = set()
        self._changed = asyncio.Event()
        self._members = MemberColumnsBuilder()
        self._no_email: dict[str, int] = {}  # profile id -> joined_at (µs), first seen kept

    async def read(self) -> ListMembers:
        body = await self._get(self._params("joined_group_at", PAGE_SIZE, None, None))
        head_page, _ = self._parse(body, None)
        while not (head_page.joined_us or head_page.no_email_joined_us):
            # an incremental read's first pages may hold only members of ``after``'s own
            # millisecond (the filter's precision), all read before: follow on past them
            url = next_link(body, self._base_url)
            if url is None:
                break
            body = await self._get(None, url)
            head_page, _ = self._parse(body, None)
        head = _Range(0, 0, 0, next_link(body, self._base_url), len(head_page))
        self._take(head_page)
        first, position = _first_joined(head_page), head_page.last_joined()
        if head.next_url is None or first is None or position is None:
            return self._result()
        last_body = await self._get(self._params("-joined_group_at", 1, None, None))
        last, _ = self._parse(last_body, None, report=False)
        last_joined = last.last_joined()
        end = last_joined + 1 if last_joined is not None else position
        head.lo, head.hi, head.position = first, end, position
        self._plan_ranges(head, end)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._workers):
                    group.create_task(self._work())
        except BaseExceptionGroup as group_error:
            # callers catch KlaviyoError: surface the first worker's error, not the group
            raise group_error.exceptions[0] from None
        return self._result()

    def _result(self) -> ListMembers:
        newest = max(self._no_email.values(), default=None)
        return self._members.finish(len(self._no_email), newest)

    def _take(self, page: Page) -> None:
        self._members.extend(page.emails, page.profile_ids, page.joined_us)
        for pid, joined in zip(page.no_email_ids, page.no_email_joined_us, strict=True):
            self._no_email.setdefault(pid, joined)

    def _plan_ranges(self, head: _Range, end: int) -> None:
        span = end - head.position
        # cut on whole milliseconds, the filters' precision: neighbouring ranges then meet
        # exactly and no page is read only to drop members of a neighbour's millisecond
        cuts = sorted(
            {_ms(head.position + span * i // self._workers) for i in range(1, self._workers)}
        )
        cuts = [c for c in cuts if head.position < c < end]
        bounds = [*cuts, end]
        head.hi = bounds[0]
        self._ranges.append(head)
        self._pending.append(head)
        for lo, hi in itertools.pairwise(bounds):
            rng = _Range(lo, hi, lo)
            self._ranges.append(rng)
            self._pending.append(rng)

    async def _work(self) -> None:
        """Read ranges until none is left; an idle worker waits for a range worth stealing."""
        while True:
            rng = self._next_range()
            if rng is None:
                if not self._active:
                    return
                await self._changed.wait()
                continue
            self._active.add(id(rng))
            try:
                await self._read_range(rng)
            finally:
                self._active.discard(id(rng))
                self._wake()

    def _wake(self) -> None:
        """Wake idle workers (a range progressed or finished)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _next_range(self) -> _Range | None:
        if self._pending:
            return self._pending.pop(0)
        active = [r for r in self._ranges if id(r) in self._active]
        fallback = self._global_density()
        victim = max(active, key=lambda r: _estimate(r, fallback), default=None)
        if victim is None or _estimate(victim, fallback) < 2 * PAGE_SIZE:
            return None
        mid = _ms(victim.position + (victim.hi - victim.position) // 2)
        if not victim.position < mid < victim.hi:
            return None
        stolen = _Range(mid, victim.hi, mid)
        victim.hi = mid
        self._ranges.append(stolen)
        return stolen

    def _global_density(self) -> float:
        seen = sum(r.seen for r in self._ranges)
        covered = sum(r.position - r.lo for r in self._ranges)
        return seen / covered if seen and covered > 0 else 1.0

    async def _read_range(self, rng: _Range) -> None:
        while rng.position < rng.hi:
            if rng.next_url is None and rng.seen == 0 and rng.position == rng.lo:
                body = await self._get(self._params("joined_group_at", PAGE_SIZE, rng.lo, rng.hi))
            elif rng.next_url is not None:
                body = await self._get(None, rng.next_url)
            else:
                return
            page, truncated = self._parse(body, rng.hi, lo=rng.lo)
            self._take(page)
            rng.seen += len(page)
            last = page.last_joined()
            if last is not None:
                rng.position = max(rng.position, last)
            rng.next_url = None if truncated else next_link(body, self._base_url)
            if rng.next_url is None:
                return
            self._wake()

    def _params(self, sort: str, size: int, lo: int | None, hi: int | None) -> dict[str, str | int]:
        conditions = []
        if lo is not None:
            conditions.append(f"greater-or-equal(joined_group_at,{filter_time(lo)})")
        elif self._after is not None:
            # from the first whole millisecond after ``after``: a member who joined later in
            # ``after``'s own millisecond is missed here, and the plan's count check then
            # falls back to a full read; re-reading that millisecond's members every time
            # (a bulk import's thousands) would cost more
            start = _ms(self._after) + 1000
            conditions.append(f"greater-or-equal(joined_group_at,{filter_time(start)})")
        if hi is not None:
            conditions.append(f"less-than(joined_group_at,{filter_time(hi, round_up=True)})")
        params: dict[str, str | int] = {
            "fields[profile]": FIELDS,
            "page[size]": size,
            "sort": sort,
        }
        if conditions:
            params["filter"] = ",".join(conditions)
        return params

    async def _get(self, params: dict[str, str | int] | None, url: str | None = None) -> Any:
        response = await self._sender.request(GET_LIST_PROFILES, self._path, params=params, url=url)
        return document(response, "GET", self._path)

    def _parse(
        self, body: dict[str, Any], hi: int | None, *, lo: int | None = None, report: bool = True
    ) -> tuple[Page, bool]:
        """The page's members from ``lo`` and below ``hi`` (µs), and whether the page went past
        ``hi``. The filters are in milliseconds (what Klaviyo documents): a range's pages may
        hold a few members of its neighbours' sub-millisecond edges, left out here."""
        page = parse_page(data_list(body))
        if self._after is not None:  # joined after ``after`` (µs), the filter said after its ms
            lo = max(lo if lo is not None else self._after + 1, self._after + 1)
        truncated = False
        last = page.last_joined()
        if hi is not None and last is not None and last >= hi:
            page = page.below(hi, lo)
            truncated = True
        elif lo is not None and min([*page.joined_us, *page.no_email_joined_us], default=lo) < lo:
            page = page.below(1 << 62, lo)
        if report and self._on_page is not None:
            self._on_page(len(page))
        return page, truncated


def _ms(micros: int) -> int:
    """``micros`` rounded down to a whole millisecond."""
    return micros - micros % 1000


def parse_page(items: list[dict[str, Any]]) -> Page:
    """Light parsing on the hot path: no validation beyond what the diff needs. A member
    without a join time is skipped; one without an email is kept apart (it still counts)."""
    page = Page()
    emails, ids, joined_us = page.emails, page.profile_ids, page.joined_us
    for item in items:
        attrs = item.get("attributes") or {}
        joined = attrs.get("joined_group_at")
        if not joined:
            continue
        email = attrs.get("email")
        if email:
            emails.append(email.strip().lower())
            ids.append(str(item["id"]))
            joined_us.append(to_micros(_fromiso(joined)))
        else:
            page.no_email_ids.append(str(item["id"]))
            page.no_email_joined_us.append(to_micros(_fromiso(joined)))
    return page


def _first_joined(page: Page) -> int | None:
    times = [t[0] for t in (page.joined_us, page.no_email_joined_us) if t]
    return min(times, default=None)


def _estimate(rng: _Range, fallback: float) -> float:
    density = rng.density()
    return (rng.hi - rng.position) * (density if density is not None else fallback)
