"""A database column's values stay compact (Arrow) when they are of one plain type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from reconciler import spill
from reconciler.sources.columns import ColumnStore


def _store(*batches: list[object]) -> ColumnStore:
    store = ColumnStore()
    for batch in batches:
        store.add(batch)
    return store


@pytest.mark.parametrize(
    "batches",
    [
        [["a", None], [None, None], ["c", "d"]],
        [[None, None], [1, 2**62], [None, -3]],
        [[1.5, float("nan")], [None, 2.0]],
        [[True, None], [False, True]],
        [[1, 2], [3.5, None]],  # int then float: Python values, 1 stays 1
        [["a", 1], ["b", None]],  # mixed in one batch
        [[2**70, 1], [2, 3]],  # too large for int64
        [[dt.date(2024, 1, 2), None], [Decimal("1.5"), {"a": 1}]],
        [[None, None], [None, None]],
    ],
)
def test_values_come_back_exactly(batches: list[list[object]]) -> None:
    store = _store(*batches)
    flat = [v for batch in batches for v in batch]
    got = store.slice(0, len(flat))
    assert len(got) == len(flat)
    for a, b in zip(got, flat, strict=True):
        assert type(a) is type(b) and (a == b or (a != a and b != b))
    rows = pa.array([len(flat) - 1, 0], type=pa.int64())
    assert store.take(rows) == [flat[-1], flat[0]]


def test_text_and_numbers_are_held_as_arrow() -> None:
    store = _store(["x" * 20] * 1000, [None] * 10, ["y"] * 1000)
    assert store._arrays and not store._values
    store = _store([1, 2], ["x", "y"])
    assert not store._arrays and store._values == [1, 2, "x", "y"]


@pytest.mark.parametrize(
    "arrays",
    [
        [pa.array(["a", None, "c"]), pa.array(["d", "e"], pa.string())],
        [pa.array([1, None, 3], pa.int64()), pa.array([4, 5], pa.int64())],
        [pa.array([Decimal("1.50"), None, Decimal("2.25")]), pa.array([Decimal("3.00")] * 2)],
        [pa.array([dt.date(2026, 1, 2), None, dt.date(2026, 3, 4)]), pa.array([dt.date.today()])],
        [pa.array([dt.datetime(2026, 1, 2, 3, 4), None]), pa.array([dt.datetime(2026, 5, 6)])],
    ],
)
def test_spilled_values_come_back_as_held(
    arrays: list[pa.Array], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large segment's mapped values move to a private file: every way the plan reads them
    (slices, rows in any order, all of them) gives what the store in memory gives."""
    monkeypatch.setattr(spill, "BATCH", 2)
    held, spilled = _store(*arrays), _store(*arrays)
    spilled.spill("its mapped values")
    count = sum(len(a) for a in arrays)
    rows = pa.array([count - 1, 0, 2, 2, 1], pa.int64())
    ascending = pa.array([0, 2, count - 1], pa.int64())
    for start, length in [(0, count), (1, 3), (3, 10), (count, 1)]:
        assert spilled.slice(start, length) == held.slice(start, length)
        assert spilled.arrow_slice(start, length) == held.arrow_slice(start, length)
    for picked in (rows, ascending):
        assert spilled.take(picked) == held.take(picked)
        assert spilled.arrow_take(picked) == held.arrow_take(picked)
        assert spilled.arrow(picked) == held.arrow(picked)
    assert spilled.arrow(None) == held.arrow(None)
    assert spilled._arrays == []  # the values are in the file, not in memory
