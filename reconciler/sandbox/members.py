"""One Klaviyo list: its attributes and its members in ``joined_group_at`` order.

Members live in three parallel arrays sorted by a per-list sequence number (``seqs``); join
times (``joined``) never decrease along them, so both ``joined_group_at`` ranges and cursors are
binary searches. A removal leaves a tombstone (-1) that a later compaction drops; cursors hold a
sequence number, so they survive compaction.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat

_TOMBSTONE = -1
_COMPACT_AT = 50_000


@dataclass(frozen=True)
class MemberQuery:
    """Which members to page through: join-time bounds (µs, inclusive) and/or profile indexes."""

    joined_min: int | None = None
    joined_max: int | None = None
    profiles: frozenset[int] | None = None
    descending: bool = False


@dataclass
class MemberList:
    id: str
    name: str
    created_us: int
    updated_us: int
    opt_in_process: str = "double_opt_in"
    seqs: array[int] = field(default_factory=lambda: array("q"))
    members: array[int] = field(default_factory=lambda: array("q"))
    joined: array[int] = field(default_factory=lambda: array("q"))
    slot_of: dict[int, int] = field(default_factory=dict)
    next_seq: int = 0
    lagging: list[tuple[float, int]] = field(default_factory=list)  # (visible at, members added)

    @property
    def count(self) -> int:
        return len(self.slot_of)

    def lag_count(self, added: int, visible_at: float) -> None:
        """``profile_count`` shows ``added`` new members only from ``visible_at`` (monotonic)."""
        self.lagging.append((visible_at, added))

    def reported_count(self) -> int:
        """``profile_count`` as Klaviyo reports it: eventually consistent with the members."""
        now = time.monotonic()
        self.lagging = [entry for entry in self.lagging if entry[0] > now]
        return max(0, self.count - sum(added for _, added in self.lagging))

    def __contains__(self, profile: int) -> bool:
        return profile in self.slot_of

    def joined_at(self, profile: int) -> int:
        return self.joined[self.slot_of[profile]]

    def add(self, profiles: Iterable[int], now_us: int) -> int:
        """Add profiles not yet in the list (joined now); existing members keep their time."""
        slot_of = self.slot_of
        fresh = [profile for profile in dict.fromkeys(profiles) if profile not in slot_of]
        if not fresh:
            return 0
        joined = max(now_us, self.joined[-1]) if self.joined else now_us
        start, count = len(self.members), len(fresh)
        slot_of.update(zip(fresh, range(start, start + count), strict=True))
        self.members.extend(fresh)
        self.seqs.extend(range(self.next_seq, self.next_seq + count))
        self.joined.extend(repeat(joined, count))
        self.next_seq += count
        self.updated_us = now_us
        return count

    def remove(self, profiles: Iterable[int], now_us: int) -> int:
        removed = 0
        for profile in profiles:
            slot = self.slot_of.pop(profile, None)
            if slot is not None:
                self.members[slot] = _TOMBSTONE
                removed += 1
        if removed:
            self.updated_us = now_us
            self._maybe_compact()
        return removed

    def profiles(self) -> Iterator[int]:
        return iter(self.slot_of)

    def page(
        self, query: MemberQuery, cursor: int | None, size: int
    ) -> tuple[list[int], int | None]:
        """Up to ``size`` member profile indexes from ``cursor`` (a seq), and the next cursor."""
        found: list[int] = []
        for slot in self._slots(query, cursor):
            if len(found) == size:
                return found, self.seqs[slot]
            found.append(self.members[slot])
        return found, None

    def _slots(self, query: MemberQuery, cursor: int | None) -> Iterator[int]:
        low, high = self._bounds(query)
        if cursor is not None:
            if query.descending:
                high = min(high, bisect_right(self.seqs, cursor))
            else:
                low = max(low, bisect_left(self.seqs, cursor))
        if query.profiles is not None:
            chosen = sorted(
                slot
                for profile in query.profiles
                if (slot := self.slot_of.get(profile)) is not None and low <= slot < high
            )
            yield from reversed(chosen) if query.descending else chosen
            return
        ordered = range(high - 1, low - 1, -1) if query.descending else range(low, high)
        members = self.members
        for slot in ordered:
            if members[slot] != _TOMBSTONE:
                yield slot

    def _bounds(self, query: MemberQuery) -> tuple[int, int]:
        low = 0 if query.joined_min is None else bisect_left(self.joined, query.joined_min)
        high = (
            len(self.joined)
            if query.joined_max is None
            else bisect_right(self.joined, query.joined_max)
        )
        return low, high

    def _maybe_compact(self) -> None:
        dead = len(self.members) - len(self.slot_of)
        if dead < _COMPACT_AT or dead < len(self.slot_of):
            return
        keep = [slot for slot, profile in enumerate(self.members) if profile != _TOMBSTONE]
        self.seqs = array("q", (self.seqs[slot] for slot in keep))
        self.joined = array("q", (self.joined[slot] for slot in keep))
        self.members = array("q", (self.members[slot] for slot in keep))
        self.slot_of = {profile: slot for slot, profile in enumerate(self.members)}
