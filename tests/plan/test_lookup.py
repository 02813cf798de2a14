"""The partitioned lookup gives Arrow's own answers, whatever the partitions and chunks."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reconciler.plan import lookup


def _emails(numbers: range) -> list[str]:
    return [f"p{i}@example.com" for i in numbers]


@pytest.mark.parametrize("slice_size", [3, 7, 1_000])
def test_partitioned_answers_equal_a_whole_lookup(
    slice_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "SLICE", slice_size)
    others = pa.chunked_array(
        [
            pa.array(_emails(range(0, 40))),
            pa.array(_emails(range(40, 45))),
            pa.array([], pa.string()),
        ]
    )
    values = pa.array([*_emails(range(30, 60)), "ünï@example.com", *_emails(range(0, 5))])
    expected = pc.index_in(values, value_set=others.combine_chunks()).cast(pa.int64())
    assert lookup.index_in(values, others).to_pylist() == expected.to_pylist()
    assert lookup.is_in(values, others).to_pylist() == pc.is_valid(expected).to_pylist()
    # a chunked ``values`` too, and the other way round
    chunked = pa.chunked_array([values.slice(0, 10), values.slice(10)])
    assert lookup.index_in(chunked, others).to_pylist() == expected.to_pylist()
    back = pc.is_in(others.combine_chunks(), value_set=values)
    assert lookup.is_in(others, values).to_pylist() == back.to_pylist()


def test_empty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "SLICE", 2)
    none = pa.array([], pa.string())
    some = pa.array(_emails(range(5)))
    assert lookup.index_in(none, some).to_pylist() == []
    assert lookup.is_in(some, none).to_pylist() == [False] * 5
