"""Bookkeeping of a full list read from both ends: segments, their two cursor chains, splits.

A *segment* is a span of ``joined_group_at`` read by two cursor chains at once: ``up`` sorted by
``joined_group_at`` from the segment's start, ``down`` sorted by ``-joined_group_at`` from its
end. After each page a chain's ``position`` says how far it got: ``up`` has read every member
who joined before it (and some at it), ``down`` every member who joined after it (and some at
it). The segment is read when either chain runs out, or when they meet:

- a page of one chain reaches past the other's position (everything is covered by time), or
- both stand at the same instant and a page of one holds a profile the other has just read.

The second rule is what reads a crowd who joined in one instant (a bulk import, a list copy)
from both ends: members who share a join time cannot be told apart by a ``joined_group_at``
filter. It relies on the API's cursor order being one total order (join time, then a fixed
tie-break) that ``-joined_group_at`` walks in reverse, which is what cursor pagination implies
(and what the sandbox does). Then the first member of a page that the other chain has read is
always the last one that chain took (the end of its newest page, its ``frontier``), followed
by the rest of that page in reverse; everything after it has been read too: each member is
taken exactly once. A meet that does not look like that (an API whose tie-break is not
reversed) turns the rule off for the segment: both chains then read the instant through, as
one chain would, and the read stays complete (repeated rows are dropped at the end).

A segment whose chains stand at different times can be *split*: at a time ``c`` between them,
``up`` stops before ``c`` and a new ``down`` chain reads back from ``c``, while a new segment
starting at ``c`` takes over the old ``down`` chain with a new ``up`` chain of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import httpx

from reconciler.klaviyo.jsonapi import to_micros

log = logging.getLogger("reconciler.klaviyo")

NEG = -(1 << 62)  # before any join time
POS = 1 << 62  # after any join time
MS = 1_000  # filters name times to the millisecond (the form Klaviyo documents): cuts fall on one
_fromiso = datetime.fromisoformat


@dataclass(slots=True)
class Rows:
    """One page's members in the order the chain reads them: profile ids, join times (µs) and
    lower-cased emails (``None`` for a member without one, e.g. an SMS-only profile)."""

    ids: list[str] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)
    emails: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def head(self, count: int) -> Rows:
        if count >= len(self.ids):
            return self
        return Rows(self.ids[:count], self.joined[:count], self.emails[:count])


def parse_rows(items: list[dict[str, Any]]) -> Rows:
    """Light parsing on the hot path: no validation beyond what the diff needs. A member
    without a join time is skipped (it cannot be placed in any range)."""
    rows = Rows()
    ids, joined_us, emails = rows.ids, rows.joined, rows.emails
    for item in items:
        attrs = item.get("attributes") or {}
        joined = attrs.get("joined_group_at")
        if not joined:
            continue
        email = attrs.get("email")
        ids.append(str(item["id"]))
        joined_us.append(_micros(joined))
        emails.append(email.strip().lower() if email else None)
    return rows


@lru_cache(maxsize=4_096)  # members who joined together (a bulk import) share the text
def _micros(joined: str) -> int:
    return to_micros(_fromiso(joined))


@dataclass(eq=False, slots=True)
class Chain:
    """One cursor chain: its request filter (``lo`` <= joined < ``hi``; ``None``: the read's
    own filter), the bound its pages are cut at (``limit``: ``up`` keeps joined < limit,
    ``down`` keeps joined >= limit; it tightens when its segment is split) and its progress."""

    descending: bool
    lo: int | None
    hi: int | None
    limit: int
    position: int
    segment: Segment | None = None
    next_url: httpx.URL | None = None
    started: bool = False
    frontier: frozenset[str] = frozenset()
    recent: tuple[str, ...] = ()  # the frontier in the order this chain read it

    def accept(self, rows: Rows, partner: Chain, has_next: bool) -> tuple[Rows, bool]:
        """The page's members this chain takes (beyond its limit or read by ``partner``: not
        taken), and whether the segment is now read."""
        count = len(rows)
        stop = count
        for index in range(count):
            joined = rows.joined[index]
            if self._beyond(joined, self.limit) or self._beyond_partner(joined, partner):
                stop = index
                break
            if rows.ids[index] in partner.frontier and self._meets(rows.ids, index, partner):
                stop = index
                break
        kept = rows.head(stop)
        self.started = True
        if kept:
            self.position = kept.joined[-1]
            self.frontier = frozenset(kept.ids)
            self.recent = tuple(kept.ids)
        return kept, stop < count or not has_next

    def _meets(self, ids: list[str], index: int, partner: Chain) -> bool:
        """Whether the page from ``index`` on walks ``partner``'s newest page back from its
        end, as it must where the two orders are one order reversed (else the tie rule is
        turned off for the segment and False returned)."""
        segment = self.segment
        if segment is None or not segment.ties_reversed:
            return False
        expected = partner.recent[::-1][: len(ids) - index]
        if tuple(ids[index : index + len(expected)]) == expected:
            return True
        segment.ties_reversed = False
        log.warning(
            "the list's members who share a join time come in another order when sorted by "
            "-joined_group_at than the reverse of joined_group_at; reading them through from "
            "both ends instead (slower, still complete)"
        )
        return False

    def _beyond(self, joined: int, limit: int) -> bool:
        return joined < limit if self.descending else joined >= limit

    def _beyond_partner(self, joined: int, partner: Chain) -> bool:
        return joined < partner.position if self.descending else joined > partner.position


@dataclass(eq=False, slots=True)
class Segment:
    """A span read by ``up`` and ``down`` until they meet."""

    up: Chain
    down: Chain
    done: bool = False
    ties_reversed: bool = True  # the meet rule inside one instant holds (see the module)

    def __post_init__(self) -> None:
        self.up.segment = self
        self.down.segment = self

    def partner(self, chain: Chain) -> Chain:
        return self.down if chain is self.up else self.up

    def gap(self) -> int:
        """Microseconds between the chains; 0 if no millisecond falls between them (then they
        stand at one instant as far as a filter can tell: no split possible). Also 0 until both
        chains have read a page: only then do both stand where members are (a new chain's start
        is a guess, and splitting the empty time beyond it would only cost requests)."""
        if self.done or not (self.up.started and self.down.started):
            return 0
        if self.up.position <= NEG or self.down.position >= POS:
            return 0
        if _cut(self.up.position, self.down.position) is None:
            return 0
        return self.down.position - self.up.position

    def split(self) -> Segment:
        """Cut the unread span in the middle of its time; returns the upper part. This segment
        keeps ``up`` and gets a new ``down``; the new one gets the old ``down`` and a new ``up``.
        Only when :meth:`gap` is not 0."""
        low, high = self.up.position, self.down.position
        cut = _cut(low, high)
        if cut is None:
            raise ValueError("no millisecond between the chains: the segment cannot be split")
        old_down = self.down
        self.up.limit = min(self.up.limit, cut)
        self.down = Chain(True, low, cut, low, cut - 1)
        self.down.segment = self
        old_down.limit = max(old_down.limit, cut)
        upper = Chain(False, cut, high + 1, high + 1, cut)
        return Segment(upper, old_down, ties_reversed=self.ties_reversed)


def _cut(low: int, high: int) -> int | None:
    """A whole millisecond ``c`` near the middle with ``low < c <= high``, if there is one."""
    cut = (low + (high - low + 1) // 2) // MS * MS
    if cut <= low:
        cut += MS
    return cut if cut <= high else None


def whole_list(start: int | None = None) -> Segment:
    """The first segment: both chains over the whole list (or the members who joined at or
    after ``start``), not yet started."""
    bottom = NEG if start is None else start
    return Segment(Chain(False, None, None, POS, bottom), Chain(True, None, None, bottom, POS))
