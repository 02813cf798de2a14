"""Columns as streams of chunks: regrouped into pieces, and two aligned streams walked together,
whatever their chunks' boundaries."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler.chunkstream import chunks_of, in_memory, is_streamed, regrouped, zipped
from reconciler.state.storedcolumn import StoredColumn


def _cut(values: list[int], sizes: list[int]) -> list[pa.Array]:
    parts, start = [], 0
    for size in sizes:
        parts.append(pa.array(values[start : start + size], pa.int64()))
        start += size
    return parts


@pytest.mark.parametrize("size", [1, 3, 10, 100])
def test_regrouped_pieces_hold_every_value_once_in_order(size: int) -> None:
    values = list(range(23))
    pieces = list(regrouped(_cut(values, [0, 5, 1, 0, 9, 8]), size))
    assert [v for p in pieces for v in p.to_pylist()] == values
    assert all(len(p) == size for p in pieces[:-1]) and 0 < len(pieces[-1]) <= size


def test_zipped_streams_pair_the_same_rows() -> None:
    values = list(range(30))
    left, right = _cut(values, [7, 0, 13, 10]), _cut([v * 2 for v in values], [1, 20, 0, 9])
    pairs = list(zipped(left, right))
    assert [v for a, _ in pairs for v in a.to_pylist()] == values
    assert all(b.to_pylist() == [2 * v for v in a.to_pylist()] for a, b in pairs)


def test_a_shorter_stream_ends_the_pairs() -> None:
    pairs = list(zipped(_cut(list(range(5)), [5]), _cut(list(range(3)), [2, 1])))
    assert sum(len(a) for a, _ in pairs) == 3


def test_a_stored_column_is_a_stream_an_arrow_column_is_not() -> None:
    reads: list[int] = []

    def read():  # type: ignore[no-untyped-def]
        reads.append(1)
        yield pa.array(["a", "b", "c"])

    stored = StoredColumn(3, read, keep=pa.array([True, False, True]))
    chunked = pa.chunked_array([pa.array(["x"]), pa.array(["y"])])
    assert is_streamed(stored) and not is_streamed(chunked) and not is_streamed(chunked.chunk(0))
    assert in_memory(stored).to_pylist() == ["a", "c"] and len(reads) == 1
    assert [c.to_pylist() for c in chunks_of(chunked)] == [["x"], ["y"]]
    assert [c.to_pylist() for c in chunks_of(pa.array(list("abcde")), 2)] == [
        ["a", "b"],
        ["c", "d"],
        ["e"],
    ]
