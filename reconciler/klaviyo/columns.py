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
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.klaviyo.models import ListMembers, Member
from reconciler.lookup import distinct, without_rows
from reconciler.values import EPOCH

CHUNK = 32_768  # members held as Python values before they become Arrow arrays


class MemberColumnsBuilder:
    """Members appended page by page (from any range), as Arrow chunks."""

    def __init__(self) -> None:
        self._chunks: list[tuple[pa.Array, pa.Array, pa.Array]] = []  # emails, ids, joined
        self._emails: list[str] = []
        self._ids: list[str] = []
        self._joined: list[int] = []

    def extend(self, emails: list[str], ids: list[str], joined_us: list[int]) -> None:
        self._emails.extend(emails)
        self._ids.extend(ids)
        self._joined.extend(joined_us)
        if len(self._emails) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._emails:
            return
        self._chunks.append(
            (
                pa.array(self._emails, type=pa.string()),
                pa.array(self._ids, type=pa.string()),
                pa.array(self._joined, type=pa.int64()),
            )
        )
        self._emails, self._ids, self._joined = [], [], []

    def finish(self, without_email: int, newest_without_email: int | None) -> ListMembers:
        """The members, each profile id once (of repeated rows, the earliest joined is kept)."""
        self._flush()
        chunks, self._chunks = self._chunks, []
        emails = pa.chunked_array([c[0] for c in chunks], type=pa.string())
        ids = pa.chunked_array([c[1] for c in chunks], type=pa.string())
        joined = pa.chunked_array([c[2] for c in chunks], type=pa.int64())
        del chunks
        emails, ids, joined = without_repeats(ids, joined, "first", emails, ids, joined)
        return ListMembers(emails, ids, joined, without_email, newest_without_email)


def unique_emails(members: ListMembers) -> ListMembers:
    """``members`` with each email once: the latest joined row of an email wins."""
    emails, ids, joined = without_repeats(
        members.emails,
        members.joined_us,
        "last",
        members.emails,
        members.profile_ids,
        members.joined_us,
    )
    return ListMembers(emails, ids, joined, members.without_email, members.newest_without_email_us)


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


def without_repeats(
    key: pa.ChunkedArray,
    joined: pa.ChunkedArray,
    keep: Literal["first", "last"],
    *columns: pa.ChunkedArray,
) -> list[pa.ChunkedArray]:
    """``columns`` without the rows whose ``key`` repeats: of the rows of one key, the
    earliest (``keep="first"``) or the latest (``"last"``) ``joined`` is kept (ties: arrival
    order). Unchanged (no copy) when every key is unique."""
    if not has_repeats(key):
        return list(columns)
    table = pa.table({"key": key, "joined": joined}).combine_chunks()
    order = pc.sort_indices(table, sort_keys=[("key", "ascending"), ("joined", "ascending")])
    ordered = table.column("key").take(order).combine_chunks()
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    dropped = order.slice(1) if keep == "first" else order.slice(0, len(order) - 1)
    kept = without_rows(len(key), [dropped.filter(same).to_pylist()])
    # one filtered copy per column, in one chunk (slices around each dropped row made a
    # column of as many chunks as repeats, and every later ``take`` from it slow)
    return [pa.chunked_array([column.filter(kept).combine_chunks()]) for column in columns]


def has_repeats(values: pa.ChunkedArray) -> bool:
    """Whether a value occurs twice (by 64-bit keys, partition by partition: see
    :func:`reconciler.lookup.distinct`; a string comparison only where keys repeat)."""
    return not distinct(values)


def _strings(column: pa.Array) -> list[str]:
    values: list[str] = column.to_pylist()
    return values


def _ints(column: pa.Array) -> list[int]:
    values: list[int] = column.to_pylist()
    return values
