"""The keyed, partitioned lookup gives Arrow's own answers, whatever the partitions, the chunks
and the keys (two strings sharing a key included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reconciler import lookup, spill


def _emails(numbers: range) -> list[str]:
    return [f"p{i}@example.com" for i in numbers]


@pytest.mark.parametrize(("slice_size", "partition"), [(3, 1), (3, 4), (7, 16), (1_000, 4)])
def test_partitioned_answers_equal_a_whole_lookup(
    slice_size: int, partition: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "SLICE", slice_size)
    monkeypatch.setattr(lookup, "PARTITION", partition)
    monkeypatch.setattr(lookup, "VERIFY_SLICE", 4)
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


# Keys that collide: every string's key is one of three numbers (in the top bits too, so the
# partitions are uneven), as two real emails sharing DuckDB's 64-bit hash would.
COLLIDING = "SELECT ((hash(v) % 3) << 62)::UBIGINT AS k FROM v"


@dataclass
class _Stream:
    """A column read a chunk at a time (as a list's emails left in the state are)."""

    parts: list[pa.Array]
    reads: int = 0

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def chunks(self) -> Iterator[pa.StringArray]:
        self.reads += 1
        yield from self.parts


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("piece", [1_048_576, 7, 1])  # others looked up in pieces
@pytest.mark.parametrize("key_sql", [lookup.KEY_SQL, COLLIDING])
def test_join_matches_both_ways(
    key_sql: str, piece: int, streamed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "PIECE", piece)
    monkeypatch.setattr(lookup, "SLICE", 2)
    monkeypatch.setattr(lookup, "PARTITION", 4)
    monkeypatch.setattr(lookup, "KEY_SQL", key_sql)
    values = pa.array(_emails(range(10, 50)))
    others = pa.chunked_array([pa.array(_emails(range(0, 25))), pa.array(_emails(range(60, 70)))])
    stream = _Stream(list(others.chunks))
    joined = lookup.join(lookup.Keys(values), stream if streamed else others)
    assert stream.reads == (1 if streamed else 0)  # a stream is read once
    expected = pc.index_in(values, value_set=others.combine_chunks()).cast(pa.int64())
    assert joined.found.to_pylist() == pc.is_valid(expected).to_pylist()
    back = pc.is_in(others.combine_chunks(), value_set=values)
    assert joined.present.to_pylist() == back.to_pylist()
    assert lookup.index_in(values, others).to_pylist() == expected.to_pylist()


def test_a_shared_key_never_matches_two_different_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """With one key for every string, the key lookup matches each value with the first of
    ``others``: the check on the strings sees it and the answer is the exact one."""
    monkeypatch.setattr(lookup, "SLICE", 1)
    monkeypatch.setattr(lookup, "KEY_SQL", "SELECT 7::UBIGINT AS k FROM v")
    values = pa.array(["b@x.io", "c@x.io", "z@x.io"])
    others = pa.array(["a@x.io", "b@x.io", "c@x.io"])
    assert lookup.index_in(values, others).to_pylist() == [1, 2, None]
    joined = lookup.join(values, others)
    assert joined.found.to_pylist() == [True, True, False]
    assert joined.present.to_pylist() == [False, True, True]


def test_a_column_keyed_once_serves_two_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "SLICE", 2)
    monkeypatch.setattr(lookup, "PARTITION", 2)
    wanted = lookup.Keys(pa.array(_emails(range(0, 20))))
    first = lookup.index_in(wanted, pa.array(_emails(range(10, 30))))
    second = lookup.index_in(wanted, pa.array(_emails(range(15, 18))))  # fewer partitions
    assert first.to_pylist() == [None] * 10 + list(range(10))
    assert second.to_pylist() == [None] * 15 + [0, 1, 2] + [None] * 2
    assert wanted.keys().to_pylist() == lookup.Keys(wanted.strings).keys().to_pylist()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_key_shared_across_the_columns_only_is_caught(
    chunked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each column's keys are unique, but one value and one other share a key: the string
    check (from either end: contiguous or chunked ``others``) finds it."""
    monkeypatch.setattr(lookup, "SLICE", 0)
    monkeypatch.setattr(lookup, "VERIFY_SLICE", 2)
    shared = (
        "SELECT CASE WHEN v IN ('q@x.io', 'r@x.io') THEN 1 ELSE hash(v) END::UBIGINT AS k FROM v"
    )
    monkeypatch.setattr(lookup, "KEY_SQL", shared)
    values = pa.array(["a@x.io", "q@x.io", "b@x.io"])
    plain = pa.array(["b@x.io", "r@x.io", "c@x.io"])
    others = pa.chunked_array([plain.slice(0, 1), plain.slice(1)]) if chunked else plain
    assert lookup.index_in(values, others).to_pylist() == [None, None, 0]
    joined = lookup.join(values, others)
    assert joined.found.to_pylist() == [False, False, True]
    assert joined.present.to_pylist() == [True, False, False]


@pytest.mark.parametrize(
    ("values", "others", "positions", "present"),
    [
        (["q@x.io", "r@x.io"], ["q@x.io", "z@x.io"], [0, None], [True, False]),  # two values
        (["q@x.io", "a@x.io"], ["r@x.io", "q@x.io"], [1, None], [False, True]),  # two others
    ],
)
def test_a_key_shared_within_one_column_is_caught_by_the_counts(
    values: list[str],
    others: list[str],
    positions: list[int | None],
    present: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``q`` and ``r`` share a key; the check reads the chunked ``others`` from its end, where
    one pair looks right: the match counts of the two ends differ, and the answer is exact."""
    monkeypatch.setattr(lookup, "SLICE", 0)
    shared = (
        "SELECT CASE WHEN v IN ('q@x.io', 'r@x.io') THEN 1 ELSE hash(v) END::UBIGINT AS k FROM v"
    )
    monkeypatch.setattr(lookup, "KEY_SQL", shared)
    chunked = pa.chunked_array([pa.array(others[:1]), pa.array(others[1:])])
    joined = lookup.join(pa.array(values), chunked)
    assert joined.found.to_pylist() == [p is not None for p in positions]
    assert joined.present.to_pylist() == present
    assert lookup.index_in(pa.array(values), chunked).to_pylist() == positions


@pytest.mark.parametrize("key_sql", [lookup.KEY_SQL, COLLIDING, "SELECT 7::UBIGINT AS k FROM v"])
@pytest.mark.parametrize("partition", [1, 4, 1_000])
def test_distinct_is_decided_on_the_strings_where_keys_repeat(
    key_sql: str, partition: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "KEY_SQL", key_sql)
    monkeypatch.setattr(lookup, "DISTINCT_PART", partition)  # 1: 256 partitions of 41 values
    monkeypatch.setattr(lookup, "SLICE", 0 if partition < 1_000 else 1_000)
    monkeypatch.setattr(lookup, "KEY_SLICE", 7)  # keys made (and sorted by part) 7 at a time
    unique = pa.chunked_array([pa.array(_emails(range(0, 30))), pa.array(_emails(range(30, 41)))])
    assert lookup.distinct(unique)
    repeated = pa.chunked_array([unique.chunk(0), pa.array(["p3@example.com"])])
    assert not lookup.distinct(repeated)
    assert lookup.distinct(pa.array(["only@example.com"]))
    assert lookup.distinct(pa.array([], pa.string()))


def test_a_null_among_the_others_never_matches_a_value_with_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lazily loaded sent-fields table names forgotten rows with a null email: a value whose
    key is the null's (forced here) is not matched with it."""
    monkeypatch.setattr(lookup, "SLICE", 0)
    shared = (
        "SELECT CASE WHEN v IS NULL OR v = 'q@x.io' THEN 1 ELSE hash(v) END::UBIGINT AS k FROM v"
    )
    monkeypatch.setattr(lookup, "KEY_SQL", shared)
    others = pa.chunked_array([pa.array(["a@x.io", None]), pa.array(["b@x.io"])])
    values = pa.array(["q@x.io", "b@x.io", "a@x.io"])
    assert lookup.index_in(values, others).to_pylist() == [None, 2, 0]
    assert lookup.index_in(pa.chunked_array([values]), others).to_pylist() == [None, 2, 0]


def test_distinct_of_keys_already_made_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column keyed before (its keys held in one array) is checked the same way."""
    monkeypatch.setattr(lookup, "SLICE", 0)
    monkeypatch.setattr(lookup, "DISTINCT_PART", 4)
    keyed = lookup.Keys(pa.array(_emails(range(0, 30))))
    keyed.keys()
    assert lookup.distinct(keyed)
    again = lookup.Keys(pa.array([*_emails(range(0, 30)), "p3@example.com"]))
    again.keys()
    assert not lookup.distinct(again)


SHARED = "SELECT CASE WHEN v IN ('q@x.io', 'r@x.io') THEN 1 ELSE hash(v) END::UBIGINT AS k FROM v"


@pytest.mark.parametrize("key_sql", [lookup.KEY_SQL, COLLIDING, SHARED])
@pytest.mark.parametrize(("slice_size", "batch"), [(2, 3), (2, 1_000), (1_000, 3)])
def test_a_spilled_segment_gives_the_answers_of_one_in_memory(
    key_sql: str, slice_size: int, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The segment's emails in a private file (``Keys`` of a spilled column): the same matches
    both ways, the same positions and counts, a key shared by two strings still caught."""
    monkeypatch.setattr(lookup, "SLICE", slice_size)
    monkeypatch.setattr(lookup, "PARTITION", 4)
    monkeypatch.setattr(lookup, "PIECE", 7)
    monkeypatch.setattr(lookup, "VERIFY_SLICE", 3)
    monkeypatch.setattr(lookup, "KEY_SQL", key_sql)
    monkeypatch.setattr(spill, "BATCH", batch)
    segment = [*_emails(range(10, 50)), "q@x.io"]
    listed = pa.chunked_array(
        [pa.array([*_emails(range(0, 25)), "r@x.io"]), pa.array(_emails(range(60, 70)))]
    )
    spilled = lookup.Keys(spill.SpilledStrings(pa.array(segment)))
    plain = lookup.Keys(pa.array(segment))
    joined, expected = lookup.join(spilled, listed), lookup.join(plain, listed)
    assert joined.found.to_pylist() == expected.found.to_pylist()
    assert joined.present.to_pylist() == expected.present.to_pylist()
    assert sum(joined.found.to_pylist()) == 15
    assert (
        lookup.index_in(listed, spilled).to_pylist() == lookup.index_in(listed, plain).to_pylist()
    )
    small = pa.array(["q@x.io", "p12@example.com", "r@x.io"])
    assert lookup.is_in(spilled, small).to_pylist() == lookup.is_in(plain, small).to_pylist()
    assert lookup.distinct(spilled)
    assert not lookup.distinct(
        lookup.Keys(spill.SpilledStrings(pa.array([*segment, "p11@example.com"])))
    )
