"""Compact snapshot of a list's membership: one blob for a million members, fast both ways.

Layout: ``RCM1`` magic, member count, byte lengths of three columns, then the columns: emails
joined by newlines, profile ids joined by newlines, and joined_at as float64 POSIX seconds
(exact to the microsecond for any date this tool meets).

A snapshot is encoded either from a dict (:func:`encode`) or straight from Arrow columns, a
piece at a time (:func:`column_pieces`): the same bytes, without a Python object per member.
Likewise it is decoded to a dict (:func:`decode`) or to columns: the text sections by
:mod:`reconciler.state.columnar`, the join times by :func:`joined_column`.
"""

from __future__ import annotations

import datetime as dt
import struct
from array import array
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.chunkstream import Column, chunks_of
from reconciler.errors import StateError
from reconciler.state.records import utc

_HEADER = struct.Struct("<4sQQQQ")
_MAGIC = b"RCM1"

Members = dict[str, tuple[str, dt.datetime]]


def collect(rows: Iterable[tuple[str, str, dt.datetime]]) -> Members:
    """Rows as a dict (a later row for the same email wins); naive datetimes are taken as UTC."""
    members: Members = {email: (pid, joined) for email, pid, joined in rows}
    for email in [e for e, (_, joined) in members.items() if joined.tzinfo is None]:
        pid, joined = members[email]
        members[email] = (pid, utc(joined))
    return members


def encode(members: Members) -> bytes:
    """The snapshot blob of ``members``."""
    emails = _join(members.keys(), "email")
    profile_ids = _join((pid for pid, _ in members.values()), "profile id")
    stamps = array("d", (joined.timestamp() for _, joined in members.values())).tobytes()
    header = _HEADER.pack(_MAGIC, len(members), len(emails), len(profile_ids), len(stamps))
    return b"".join((header, emails, profile_ids, stamps))


HEADER_SIZE = _HEADER.size
SLICE = 65_536  # values turned into bytes at a time


def column_pieces(
    emails: Column,
    profile_ids: Column,
    joined_us: pa.Array | pa.ChunkedArray,
) -> tuple[int, Iterator[bytes | memoryview]]:
    """The size of the snapshot blob of these aligned columns (``joined_us``: int64
    microseconds since the epoch, UTC) and its bytes, a piece at a time: the same blob as
    :func:`encode` of the same members in the same order."""
    count = len(emails)
    if not len(profile_ids) == len(joined_us) == count:
        raise StateError("the membership columns to cache differ in length")
    n_emails = _text_size(emails, "email")
    n_ids = _text_size(profile_ids, "profile id")
    header = _HEADER.pack(_MAGIC, count, n_emails, n_ids, 8 * count)

    def pieces() -> Iterator[bytes | memoryview]:
        yield header
        yield from _lines(emails)
        yield from _lines(profile_ids)
        for part in _slices(joined_us):
            seconds = pc.divide(pc.cast(part, pa.float64()), 1e6)  # as datetime.timestamp()
            yield memoryview(seconds.buffers()[1])[: 8 * len(part)]

    return HEADER_SIZE + n_emails + n_ids + 8 * count, pieces()


def joined_column(pieces: Iterable[bytes | bytearray], count: int) -> pa.ChunkedArray:
    """The joined_at section, read in ``pieces`` of any size, as the ``count`` int64
    microseconds that :func:`column_pieces` wrote it from (exact: a float64 second is within a
    quarter of a microsecond of the microsecond it was divided from, for any date before 2255).
    """
    chunks: list[pa.Array] = []
    carry = b""
    for piece in pieces:
        data = carry + piece if carry else piece
        whole = len(data) - len(data) % 8
        carry = bytes(data[whole:])
        if whole:
            buffer = pa.py_buffer(memoryview(data)[:whole])
            chunks.append(_micros(pa.Array.from_buffers(pa.float64(), whole // 8, [None, buffer])))
    column = pa.chunked_array(chunks, type=pa.int64())
    if carry or len(column) != count:
        raise damaged("column lengths differ")
    return column


def _micros(seconds: pa.Array) -> pa.Array:
    try:
        return pc.cast(pc.round(pc.multiply(seconds, 1e6)), pa.int64())
    except pa.ArrowInvalid as exc:  # NaN, infinite or out of range
        raise damaged("bad join time") from exc


def _text_size(values: Column, what: str) -> int:
    """Bytes of ``values`` joined by newlines (none may hold one; a stream: a chunk at a
    time)."""
    if len(values) == 0:
        return 0
    size = 0
    for chunk in chunks_of(values):
        if pc.any(pc.match_substring(chunk, "\n")).as_py():
            raise StateError(f"a {what} in the membership cache contains a line break")
        size += pc.sum(pc.binary_length(chunk)).as_py() or 0
    return size + len(values) - 1


def _lines(values: Column) -> Iterator[bytes | memoryview]:
    """``values`` joined by newlines, a slice at a time."""
    left = len(values)
    for part in _slices(values):
        left -= len(part)
        ended = pc.binary_join_element_wise(part, "", "\n")  # each value and a newline
        size = pc.sum(pc.binary_length(ended)).as_py()
        yield memoryview(ended.buffers()[2])[: size if left else size - 1]


def _slices(values: Column) -> Iterator[pa.Array]:
    for chunk in chunks_of(values, SLICE):
        for start in range(0, len(chunk), SLICE):
            yield chunk.slice(start, SLICE)


def sections(head: bytes, total: int) -> tuple[int, int, int]:
    """The member count and the byte lengths of the email and profile id sections, from the
    first ``HEADER_SIZE`` bytes of a snapshot blob of ``total`` bytes."""
    try:
        magic, count, n_emails, n_ids, n_stamps = _HEADER.unpack_from(head)
    except struct.error as exc:
        raise damaged("truncated header") from exc
    if magic != _MAGIC or _HEADER.size + n_emails + n_ids + n_stamps != total:
        raise damaged("bad magic or length")
    if n_stamps != 8 * count:
        raise damaged("column lengths differ")
    return count, n_emails, n_ids


def split(blob: bytes) -> tuple[int, memoryview, memoryview, memoryview]:
    """The member count and the three column sections of a snapshot blob (no copies)."""
    count, n_emails, n_ids = sections(blob, len(blob))
    view = memoryview(blob)[_HEADER.size :]
    return count, view[:n_emails], view[n_emails : n_emails + n_ids], view[n_emails + n_ids :]


def decode(blob: bytes) -> Members:
    """The members held by a snapshot blob; a damaged blob raises StateError."""
    count, email_text, id_text, stamp_bytes = split(blob)
    if count == 0:
        return {}
    emails = bytes(email_text).decode().split("\n")
    ids = bytes(id_text).decode().split("\n")
    stamps = array("d")
    stamps.frombytes(stamp_bytes)
    if not len(emails) == len(ids) == len(stamps) == count:
        raise damaged("column lengths differ")
    when = {s: dt.datetime.fromtimestamp(s, dt.UTC) for s in set(stamps)}
    return dict(zip(emails, zip(ids, [when[s] for s in stamps], strict=True), strict=True))


def _join(values: Iterable[str], what: str) -> bytes:
    items = list(values)
    data = "\n".join(items)
    if items and data.count("\n") != len(items) - 1:
        raise StateError(f"a {what} in the membership cache contains a line break")
    return data.encode()


def damaged(reason: str) -> StateError:
    error = StateError(f"the membership cache snapshot is damaged ({reason})")
    error.hint = "it is only a cache: the next plan re-reads the list (or use --refresh)"
    return error
