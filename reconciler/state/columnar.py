"""The membership cache as Arrow columns: a million members without a Python string each.

A snapshot blob (see :mod:`reconciler.state.codec`) holds the emails and the profile ids as
newline-joined text. Here each column becomes a chunked Arrow string array, split by Arrow from
the bytes as they are read, a piece at a time (no Python string per member, and never the
whole text and its array at once). The change log is replayed with Arrow compute: removals by
profile id, additions with their email de-duplicated (a later row for an email wins, as in the
dict form).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.state import codec
from reconciler.values import EPOCH

Column: TypeAlias = "pa.ChunkedArray | pa.StringArray"  # strings, in pieces or in one


@dataclass(frozen=True)
class MemberColumns:
    """A list's cached members as two aligned columns (each email once).

    ``as_of`` is the newest ``joined_at`` seen (None for an empty list), ``saved_at`` the
    wall time of the last save or update, and ``without_email`` the number of the list's
    members without an email (not in the columns, but in the list's ``profile_count``).
    """

    emails: Column
    profile_ids: Column
    as_of: dt.datetime | None
    saved_at: dt.datetime | None = None
    without_email: int = 0

    @property
    def count(self) -> int:
        return len(self.emails)

    def with_added(self, rows: Iterable[tuple[str, str]]) -> MemberColumns:
        """These columns with ``(email, profile id)`` rows added (a later row for an email wins)."""
        emails, ids = add_rows(self.emails, self.profile_ids, rows)
        return MemberColumns(emails, ids, self.as_of, self.saved_at, self.without_email)


@dataclass(frozen=True)
class MemberSnapshot:
    """A full read to cache: aligned columns (each email once) with ``joined_us`` as int64
    microseconds since the epoch (UTC); the members without an email only counted, with the
    latest of their join times (they count towards ``as_of``)."""

    emails: Column
    profile_ids: Column
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


def lines_column(pieces: Iterable[bytes | bytearray], count: int) -> Column:
    """The ``count`` newline-separated UTF-8 values of the concatenated ``pieces``.

    Each piece is split up to its last newline; the rest is carried into the next one.
    """
    chunks: list[pa.Array] = []
    carry = b""
    for piece in pieces:
        data = carry + piece if carry else piece
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = bytes(data)
            continue
        chunks.append(split_lines(memoryview(data)[:cut]))
        carry = bytes(data[cut + 1 :])
    if count:
        chunks.append(split_lines(carry))
    column = pa.chunked_array(chunks, type=pa.string())
    if len(column) != count:
        raise codec.damaged("column lengths differ")
    return column


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


def remove_ids(emails: Column, ids: Column, gone: Sequence[str]) -> tuple[Column, Column]:
    """The columns without the members whose profile id is in ``gone``."""
    if not gone or len(ids) == 0:
        return emails, ids
    keep = pc.invert(pc.is_in(ids, value_set=pa.array(gone, type=pa.string())))
    if pc.all(keep).as_py():
        return emails, ids
    return emails.filter(keep), ids.filter(keep)


def add_rows(emails: Column, ids: Column, rows: Iterable[tuple[str, str]]) -> tuple[Column, Column]:
    """The columns with ``rows`` added; an email already present takes the new profile id."""
    latest = dict(rows)
    if not latest:
        return emails, ids
    new_emails = pa.array(list(latest), type=pa.string())
    new_ids = pa.array(list(latest.values()), type=pa.string())
    if len(emails):
        keep = pc.invert(pc.is_in(emails, value_set=new_emails))
        if not pc.all(keep).as_py():
            emails, ids = emails.filter(keep), ids.filter(keep)
    return _appended(emails, new_emails), _appended(ids, new_ids)


def _appended(column: Column, values: pa.StringArray) -> pa.ChunkedArray:
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return pa.chunked_array([*chunks, values], type=pa.string())
