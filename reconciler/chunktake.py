"""Rows taken from a chunked column chunk by chunk.

Arrow's ``take`` on a chunked column concatenates every chunk first: a whole copy of the column
(110 MB of first names for ten million rows) for the few thousand rows a plan adds or updates.
Rows in ascending order (the plan's positions always are) are taken here from each chunk they
fall in (found by bisection); any other order is left to Arrow.
"""

from __future__ import annotations

import bisect

import pyarrow as pa
import pyarrow.compute as pc


class _Positions:
    """An integer array as a sequence of Python ints (read by bisection: a few reads a chunk)."""

    def __init__(self, rows: pa.Array) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> int:
        value: int = self._rows[index].as_py()
        return value


def take(column: pa.ChunkedArray, rows: pa.Array) -> pa.ChunkedArray:
    """``column.take(rows)`` without a copy of the column when ``rows`` ascend (no nulls)."""
    if column.num_chunks <= 1 or not ascending(rows):
        taken: pa.ChunkedArray = column.take(rows)
        return taken
    positions = _Positions(rows)
    pieces: list[pa.Array] = []
    start = placed = 0
    for chunk in column.chunks:
        end = start + len(chunk)
        upto = bisect.bisect_left(positions, end, lo=placed)
        if upto > placed:
            local = pc.subtract(rows.slice(placed, upto - placed), pa.scalar(start, rows.type))
            pieces.append(chunk.take(local))
            placed = upto
        start = end
    if placed != len(rows):  # a row past the end: Arrow's own error
        rest: pa.ChunkedArray = column.take(rows)
        return rest
    return pa.chunked_array(pieces, column.type)


def ascending(rows: pa.Array) -> bool:
    """Whether ``rows`` are integers without nulls, each at least the one before."""
    if rows.null_count or not pa.types.is_integer(rows.type):
        return False
    if len(rows) < 2:
        return True
    steps = pc.greater_equal(rows.slice(1), rows.slice(0, len(rows) - 1))
    return bool(pc.all(steps).as_py())
