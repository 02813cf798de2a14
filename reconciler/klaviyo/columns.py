"""A list read in columnar form: members gathered some thousands at a time into Arrow arrays.

A million members as ``Member`` objects (two strings and a datetime each) cost hundreds of
megabytes; as Arrow columns they cost the bytes of their text. Every range of a concurrent read
appends its pages to one :class:`MemberColumnsBuilder`, which turns the latest ``CHUNK``
members into Arrow arrays at once: few chunks, no small arrays to join later (small Arrow
buffers of many ranges, interleaved, would leave the allocator's pages fragmented), and never
more than ``CHUNK`` members as Python values.

The rows come in arrival order; where the order matters (which row of a repeated key wins) it
is the join time, as when the ranges were concatenated in order. De-duplication:
:func:`has_repeats` checks the 64-bit keys of the values a partition at a time (Arrow's hash
table of a million strings costs ~100 MB; comparing strings against sampled pivots cost a pass
over the column per part), and only when a value does repeat are the rows to drop found in a
sorted copy (by key, then join time).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.chunkstream import in_memory, zipped
from reconciler.klaviyo.models import ListMembers, Member
from reconciler.lookup import distinct, without_rows
from reconciler.spill import SpilledStrings, SpillWriter
from reconciler.values import EPOCH

_Column = TypeVar("_Column", pa.ChunkedArray, SpilledStrings)
CHUNK = 32_768  # members held as Python values before they become Arrow arrays
SPILL_IDS_AT = 2_000_000  # members read from which their profile ids go to a private file


class MemberColumnsBuilder:
    """Members appended page by page (from any range), as Arrow chunks. From
    ``SPILL_IDS_AT`` members on, the profile ids go to a private file as they come
    (:class:`~reconciler.spill.SpillWriter`): a read of ten million holds 300 MB less, and the
    ids are needed only to check them for repeats, to cache them and to remove members."""

    def __init__(self) -> None:
        self._chunks: list[tuple[pa.Array, pa.Array | None, pa.Array]] = []  # emails, ids, joined
        self._emails: list[str] = []
        self._ids: list[str] = []
        self._joined: list[int] = []
        self._count = 0
        self._spilled: SpillWriter | None = None

    def extend(self, emails: list[str], ids: list[str], joined_us: list[int]) -> None:
        self._emails.extend(emails)
        self._ids.extend(ids)
        self._joined.extend(joined_us)
        if len(self._emails) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._emails:
            return
        ids: pa.Array | None = pa.array(self._ids, type=pa.string())
        self._count += len(self._emails)
        if self._spilled is None and self._count >= SPILL_IDS_AT:
            self._spilled = SpillWriter("the list's profile ids")
            for index, (emails, held, joined) in enumerate(self._chunks):
                assert held is not None  # every chunk holds its ids until the first spill
                self._spilled.append(held)
                self._chunks[index] = (emails, None, joined)
        if self._spilled is not None:
            self._spilled.append(ids)
            ids = None
        self._chunks.append(
            (pa.array(self._emails, type=pa.string()), ids, pa.array(self._joined, type=pa.int64()))
        )
        self._emails, self._ids, self._joined = [], [], []

    def finish(self, without_email: int, newest_without_email: int | None) -> ListMembers:
        """The members, each profile id once (of repeated rows, the earliest joined is kept)."""
        self._flush()
        chunks, self._chunks = self._chunks, []
        emails = pa.chunked_array([c[0] for c in chunks], type=pa.string())
        ids: pa.ChunkedArray | SpilledStrings
        if self._spilled is not None:
            ids, self._spilled = self._spilled.finish(), None
        else:
            ids = pa.chunked_array([c[1] for c in chunks], type=pa.string())
        joined = pa.chunked_array([c[2] for c in chunks], type=pa.int64())
        del chunks
        return _once(ListMembers(emails, ids, joined, without_email, newest_without_email), "id")


def unique_emails(members: ListMembers) -> ListMembers:
    """``members`` with each email once: the latest joined row of an email wins."""
    return _once(members, "email")


def _once(members: ListMembers, by: Literal["id", "email"]) -> ListMembers:
    """``members`` without the rows whose profile id (the earliest joined is kept) or email
    (the latest is kept) repeats; unchanged (no copy) when none does."""
    key = members.profile_ids if by == "id" else members.emails
    kept = kept_once(key, members.joined_us, "first" if by == "id" else "last")
    if kept is None:
        return members
    return ListMembers(
        _kept(members.emails, kept),
        _kept(members.profile_ids, kept),
        _kept(members.joined_us, kept),
        members.without_email,
        members.newest_without_email_us,
    )


def as_members(members: ListMembers) -> list[Member]:
    """The rows as ``Member`` objects in join order (for small reads and existing callers)."""
    order = pc.sort_indices(members.joined_us)  # stable
    joined = _ints(members.joined_us.take(order))
    when = {us: EPOCH + dt.timedelta(microseconds=us) for us in set(joined)}
    return [
        Member(email, pid, when[us])
        for email, pid, us in zip(
            _strings(members.emails.take(order)),
            _strings(members.profile_ids.take(order)),
            joined,
            strict=True,
        )
    ]


def kept_once(
    key: pa.ChunkedArray | SpilledStrings, joined: pa.ChunkedArray, keep: Literal["first", "last"]
) -> pa.BooleanArray | None:
    """The rows to keep so that each ``key`` is kept once: of the rows of one key, the
    earliest (``keep="first"``) or the latest (``"last"``) ``joined`` (ties: arrival order).
    None: every key is unique, all of them. Only a read whose keys do repeat sorts them (a
    spilled column is then read into memory)."""
    if not has_repeats(key):
        return None
    table = pa.table({"key": in_memory(key), "joined": joined}).combine_chunks()
    order = pc.sort_indices(table, sort_keys=[("key", "ascending"), ("joined", "ascending")])
    ordered = table.column("key").take(order).combine_chunks()
    del table
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    dropped = order.slice(1) if keep == "first" else order.slice(0, len(order) - 1)
    return without_rows(len(key), [dropped.filter(same).to_pylist()])


def _kept(column: _Column, kept: pa.BooleanArray) -> _Column:
    """The rows of ``column`` that ``kept`` marks: one filtered copy in one chunk (slices
    around each dropped row made a column of as many chunks as repeats, and every later
    ``take`` from it slow); a spilled column to a new file, a batch at a time."""
    if isinstance(column, SpilledStrings):
        writer = SpillWriter("the list's profile ids")
        for chunk, flags in zipped(column.chunks(), [kept]):
            writer.append(chunk.filter(flags))
        return writer.finish()
    return pa.chunked_array([column.filter(kept).combine_chunks()])


def has_repeats(values: pa.ChunkedArray | SpilledStrings) -> bool:
    """Whether a value occurs twice (by 64-bit keys, partition by partition: see
    :func:`reconciler.lookup.distinct`; a string comparison only where keys repeat)."""
    return not distinct(values)


def _strings(column: pa.Array) -> list[str]:
    values: list[str] = column.to_pylist()
    return values


def _ints(column: pa.Array) -> list[int]:
    values: list[int] = column.to_pylist()
    return values
