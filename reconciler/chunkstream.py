"""Columns read as streams of chunks: in memory, or left in the state until a pass reads them.

A list's emails and ids may stay in the state's snapshot
(:class:`reconciler.state.storedcolumn.StoredColumn`), read again a chunk at a time for each
pass. The passes see every column through :func:`chunks_of`, walk two aligned columns together
with :func:`zipped` (their chunks need not be cut at the same rows) and regroup small chunks
into pieces of a chosen size with :func:`regrouped`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeAlias

import pyarrow as pa
from typing_extensions import TypeIs


class Streamed(Protocol):
    """A column read a chunk at a time (each call of :meth:`chunks` reads it again)."""

    def __len__(self) -> int: ...
    def chunks(self) -> Iterator[pa.StringArray]: ...


def is_streamed(column: object) -> TypeIs[Streamed]:
    """Whether ``column`` is a stream (an Arrow chunked array has ``chunks`` too: a list)."""
    if isinstance(column, pa.Array | pa.ChunkedArray):
        return False
    return callable(getattr(column, "chunks", None))


Column: TypeAlias = "pa.StringArray | pa.ChunkedArray | Streamed"
SLICE = 100_000  # rows of an in-memory array handed out at a time


def chunks_of(column: Column, size: int = SLICE) -> Iterator[pa.Array]:
    """The column's values in order, a chunk at a time (an array: slices of ``size``)."""
    if is_streamed(column):
        yield from column.chunks()
    elif isinstance(column, pa.ChunkedArray):
        yield from column.chunks
    else:
        for start in range(0, len(column), size):
            yield column.slice(start, size)


def in_memory(column: Column) -> pa.StringArray | pa.ChunkedArray:
    """The column held whole (a streamed one is read into memory: small columns, tests)."""
    if is_streamed(column):
        chunks = list(column.chunks())  # strings, or a spilled column of another type
        return pa.chunked_array(chunks) if chunks else pa.chunked_array([], pa.string())
    return column


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array (a single chunk as it is: ``combine_chunks`` copies even that)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def regrouped(chunks: Iterable[pa.Array], size: int) -> Iterator[pa.Array | pa.ChunkedArray]:
    """``chunks`` regrouped into pieces of ``size`` values (the last one: what is left), each
    one chunk as it came or the chunks it spans (never copied into one: a copy would double
    the piece for a moment)."""
    held: list[pa.Array] = []
    count = 0
    for chunk in chunks:
        while len(chunk):
            part = chunk.slice(0, size - count)
            held.append(part)
            count += len(part)
            chunk = chunk.slice(len(part))
            if count == size:
                yield _joined(held)
                held, count = [], 0
    if count:
        yield _joined(held)


def zipped(
    left: Iterable[pa.Array], right: Iterable[pa.Array]
) -> Iterator[tuple[pa.Array, pa.Array]]:
    """Two aligned streams of chunks as pairs of equally long pieces (a stream that ends
    first ends the pairs: the caller checks the counts)."""
    mine, theirs = iter(left), iter(right)
    a = b = None
    while True:
        a = a if a is not None and len(a) else next(mine, None)
        b = b if b is not None and len(b) else next(theirs, None)
        if a is None or b is None:
            return
        if not len(a) or not len(b):
            continue
        size = min(len(a), len(b))
        yield a.slice(0, size), b.slice(0, size)
        a, b = a.slice(size), b.slice(size)


def _joined(pieces: list[pa.Array]) -> pa.Array | pa.ChunkedArray:
    return pieces[0] if len(pieces) == 1 else pa.chunked_array(pieces, pieces[0].type)
