"""The membership cache as Arrow columns: a million members without a Python string each.

A snapshot blob (see :mod:`reconciler.state.codec`) holds the emails and the profile ids as
newline-joined text. Here each column becomes a chunked Arrow string array, split by Arrow from
the bytes as they are read, a piece at a time (no Python string per member, and never the
whole text and its array at once). The change log is replayed with Arrow compute: removals by
profile id, additions with their email de-duplicated (a later row for an email wins, as in the
dict form), the snapshot's columns filtered once (:func:`replay`); compaction replays them with
the join times too.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.chunkstream import Streamed
from reconciler.state import codec
from reconciler.state.storedcolumn import StoredColumn
from reconciler.values import EPOCH

Column: TypeAlias = "pa.ChunkedArray | pa.StringArray"  # strings, in pieces or in one


@dataclass(frozen=True)
class MemberColumns:
    """A list's cached members as two aligned columns (each email once).

    ``as_of`` is the newest ``joined_at`` seen (None for an empty list), ``saved_at`` the
    wall time of the last save or update, and ``without_email`` the number of the list's
    members without an email (not in the columns, but in the list's ``profile_count``).
    """

    emails: Column | StoredColumn  # stored (both or neither): see MembershipCache.load_columns
    profile_ids: Column | StoredColumn
    as_of: dt.datetime | None
    saved_at: dt.datetime | None = None
    without_email: int = 0

    @property
    def count(self) -> int:
        return len(self.emails)

    def with_added(self, rows: Iterable[tuple[str, str]]) -> MemberColumns:
        """These columns with ``(email, profile id)`` rows added (a later row for an email wins)."""
        emails, ids = self.emails, self.profile_ids
        if isinstance(emails, StoredColumn) and isinstance(ids, StoredColumn):
            stored = add_stored(emails, ids, rows)
            return MemberColumns(*stored, self.as_of, self.saved_at, self.without_email)
        assert not isinstance(emails, StoredColumn) and not isinstance(ids, StoredColumn)
        added = add_rows(emails, ids, rows)
        return MemberColumns(*added, self.as_of, self.saved_at, self.without_email)


@dataclass(frozen=True)
class MemberSnapshot:
    """A full read to cache: aligned columns (each email once) with ``joined_us`` as int64
    microseconds since the epoch (UTC); the members without an email only counted, with the
    latest of their join times (they count towards ``as_of``)."""

    emails: Column
    profile_ids: Column | Streamed  # a large read's ids: spilled (reconciler.spill)
    joined_us: pa.Int64Array | pa.ChunkedArray
    without_email: int = 0
    newest_without_email_us: int | None = None

    @property
    def as_of(self) -> dt.datetime | None:
        """The newest join time of any member (None for an empty list)."""
        newest = pc.max(self.joined_us).as_py() if len(self.joined_us) else None
        times = [t for t in (newest, self.newest_without_email_us) if t is not None]
        if not times:
            return None
        return EPOCH + dt.timedelta(microseconds=max(times))


def lines_column(pieces: Iterable[bytes | bytearray], count: int | None) -> Column:
    """The ``count`` newline-separated UTF-8 values of the concatenated ``pieces`` (None: as
    many as they hold; no piece at all, or only empty ones, hold none)."""
    return pa.chunked_array(list(lines_chunks(pieces, count)), type=pa.string())


def lines_chunks(
    pieces: Iterable[bytes | bytearray], count: int | None
) -> Iterator[pa.StringArray]:
    """:func:`lines_column`'s values a chunk at a time, as the pieces arrive (a count that
    differs is found, and raised, once the last piece is read).

    Each piece is split up to its last newline; the rest is carried into the next one.
    """
    carry = b""
    seen = False
    found = 0
    for piece in pieces:
        seen = seen or bool(piece)
        data = carry + piece if carry else piece
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = bytes(data)
            continue
        chunk = split_lines(memoryview(data)[:cut])
        carry = bytes(data[cut + 1 :])
        found += len(chunk)
        yield chunk
    if count if count is not None else seen:
        chunk = split_lines(carry)
        found += len(chunk)
        yield chunk
    if count is not None and found != count:
        raise codec.damaged("column lengths differ")


def lines_array(data: bytes | bytearray, count: int) -> Column:
    """The ``count`` newline-separated UTF-8 values of ``data``."""
    return lines_column([data] if data else [], count)


def split_lines(data: memoryview | bytes) -> pa.StringArray:
    """The newline-separated values of ``data``: wrapped (no copy) as a one-value string array
    and split by Arrow's own kernel."""
    offsets = pa.py_buffer(struct.pack("<ii", 0, len(data)))
    whole = pa.StringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise codec.damaged("not UTF-8") from exc
    values: pa.StringArray = pc.split_pattern(whole, pattern="\n").flatten()
    return values


def release_unused() -> None:
    """Hand the memory of freed Arrow buffers back to the system (its allocator keeps it)."""
    pa.default_memory_pool().release_unused()


def empty_column() -> Column:
    return pa.chunked_array([], type=pa.string())


EMAIL, PROFILE_ID, JOINED = "email", "profile_id", "joined_us"  # columns of a member table
Step: TypeAlias = "Sequence[str] | pa.Table"  # profile ids removed, or a table of rows added


def remove_ids(emails: Column, ids: Column, gone: Sequence[str]) -> tuple[Column, Column]:
    """The columns without the members whose profile id is in ``gone``."""
    kept = without_ids(pa.table({EMAIL: emails, PROFILE_ID: ids}), gone)
    return kept[EMAIL], kept[PROFILE_ID]


def add_rows(emails: Column, ids: Column, rows: Iterable[tuple[str, str]]) -> tuple[Column, Column]:
    """The columns with ``rows`` added; an email already present takes the new profile id."""
    latest = dict(rows)
    new = pa.table(
        {
            EMAIL: pa.array(list(latest), type=pa.string()),
            PROFILE_ID: pa.array(list(latest.values()), type=pa.string()),
        }
    )
    added = with_rows(pa.table({EMAIL: emails, PROFILE_ID: ids}), new)
    return added[EMAIL], added[PROFILE_ID]


def replay(members: pa.Table, steps: Sequence[Step]) -> pa.Table:
    """A member table (``email``, ``profile_id``, any aligned columns more) with ``steps``
    applied in order: each removes every row of its profile ids, or adds its rows (each email
    once), replacing the row of an email already present.

    A row of ``members`` survives the steps unless one removes its profile id or adds its
    email, so the (large) table is filtered once, whatever the number of steps; only the
    (few) rows added are replayed step by step, among themselves.
    """
    gone, taken = _gone_and_taken(steps)
    keep = _keep(members, gone, taken)
    tail = _tail(members.schema, steps)
    kept = members if keep is None else members.filter(keep)
    return pa.concat_tables([kept, tail]) if tail.num_rows else kept


def replay_stored(
    emails: StoredColumn, ids: StoredColumn, steps: Sequence[Step]
) -> tuple[StoredColumn, StoredColumn]:
    """:func:`replay` of a snapshot whose columns stay stored: each is read (a chunk at a
    time) only when a step asks: the emails when one adds members (an email added again
    replaces its row), the ids when one removes some."""
    gone, taken = _gone_and_taken(steps)
    hit = emails.stored_flags(taken)
    by_id = ids.stored_flags(gone)
    if by_id is not None:
        hit = by_id if hit is None else pc.or_(hit, by_id)
    tail = _tail(pa.schema([(EMAIL, pa.string()), (PROFILE_ID, pa.string())]), steps)
    return (
        emails.without(hit, None).with_tail(tail[EMAIL]),
        ids.without(hit, None).with_tail(tail[PROFILE_ID]),
    )


def add_stored(
    emails: StoredColumn, ids: StoredColumn, rows: Iterable[tuple[str, str]]
) -> tuple[StoredColumn, StoredColumn]:
    """:func:`add_rows` for stored columns: an email already a member (who joined again,
    rare) loses its row, wherever it is, and the new row comes last."""
    latest = dict(rows)
    if not latest:
        return emails, ids
    new = pa.array(list(latest), type=pa.string())
    hit = emails.stored_flags(new)
    in_tail = pc.is_in(emails.tail, value_set=new)
    keep_tail = pc.invert(in_tail) if pc.any(in_tail).as_py() else None
    added = pa.array(list(latest.values()), type=pa.string())
    return (
        emails.without(hit, keep_tail).with_tail(new),
        ids.without(hit, keep_tail).with_tail(added),
    )


def _gone_and_taken(steps: Sequence[Step]) -> tuple[pa.StringArray, pa.StringArray]:
    """The profile ids the steps remove, and the emails they add."""
    gone = [pid for step in steps if not isinstance(step, pa.Table) for pid in step]
    added = [step for step in steps if isinstance(step, pa.Table)]
    emails = [chunk for table in added for chunk in table[EMAIL].chunks]
    taken = pa.chunked_array(emails, type=pa.string()).combine_chunks()
    return pa.array(gone, type=pa.string()), taken


def _tail(schema: pa.Schema, steps: Sequence[Step]) -> pa.Table:
    """The rows the steps add, replayed among themselves (removals included)."""
    tail: pa.Table = schema.empty_table()
    for step in steps:
        tail = with_rows(tail, step) if isinstance(step, pa.Table) else without_ids(tail, step)
    return tail


def _keep(members: pa.Table, gone: pa.StringArray, taken: pa.StringArray) -> pa.ChunkedArray | None:
    """Which rows of ``members`` have neither a profile id in ``gone`` nor an email in
    ``taken`` (None: all of them)."""
    if members.num_rows == 0 or (len(gone) == 0 and len(taken) == 0):
        return None
    hit = pc.or_(
        pc.is_in(members[PROFILE_ID], value_set=gone),
        pc.is_in(members[EMAIL], value_set=taken),
    )
    if not pc.any(hit).as_py():
        return None
    return pc.invert(hit)


def without_ids(members: pa.Table, gone: Sequence[str]) -> pa.Table:
    """The rows of a member table (``email``, ``profile_id``, any aligned columns more) whose
    profile id is not in ``gone``: every row of such an id, as the dict form removes them."""
    if not gone or members.num_rows == 0:
        return members
    keep = pc.invert(pc.is_in(members[PROFILE_ID], value_set=pa.array(gone, type=pa.string())))
    if pc.all(keep).as_py():
        return members
    return members.filter(keep)


def with_rows(members: pa.Table, new: pa.Table) -> pa.Table:
    """A member table with the rows of ``new`` (the same columns, each email once) appended; a
    row of an email in ``new`` is replaced, as a later row for an email wins in the dict form."""
    if new.num_rows == 0:
        return members
    if members.num_rows:
        value_set = new[EMAIL].combine_chunks()
        keep = pc.invert(pc.is_in(members[EMAIL], value_set=value_set))
        if not pc.all(keep).as_py():
            members = members.filter(keep)
    return pa.concat_tables([members, new.select(members.column_names).cast(members.schema)])
