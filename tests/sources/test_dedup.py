"""Sort-based dedup of segment emails: counts, samples and first rows, across slice bounds."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from reconciler.sources import dedup
from reconciler.sources.dedup import distinct, first_mask, first_rows, hash_sum
from reconciler.sources.emailset import EmailSet
from reconciler.sources.fingerprint import text_hash


def _array(values: list[str]) -> pa.StringArray:
    return pa.array(values, type=pa.string())


@pytest.mark.parametrize("slice_size", [3, 7, 100_000])
def test_first_rows_and_samples_match_a_plain_walk(
    monkeypatch: pytest.MonkeyPatch, slice_size: int
) -> None:
    monkeypatch.setattr(dedup, "SLICE", slice_size)  # runs of equal values straddle slices
    rng = random.Random(11)
    values = [f"u{rng.randrange(40)}@example.com" for _ in range(200)]
    emails = _array(values)
    found = distinct(emails, limit=5)
    first: dict[str, int] = {}
    for row, email in enumerate(values):
        first.setdefault(email, row)
    repeated = sorted(e for e in first if values.count(e) > 1)
    assert found.count == len(first)
    assert found.repeated == repeated[:5]
    rows = first_rows(emails, found)
    assert rows is not None
    assert rows.to_pylist() == sorted(first.values())  # ascending: row order
    unique = emails.take(rows)
    assert dict(zip(unique.to_pylist(), rows.to_pylist(), strict=True)) == first
    keep = first_mask(emails, found)  # the same rows as a mask: filter keeps them in order
    assert keep is not None and emails.filter(keep).to_pylist() == unique.to_pylist()


def test_without_duplicates_the_emails_stay_in_row_order() -> None:
    values = ["b@x.co", "a@x.co", "c@x.co"]
    found = distinct(_array(values), limit=5)
    assert (found.count, found.repeated) == (3, [])
    assert first_rows(_array(values), found) is None
    assert first_mask(_array(values), found) is None
    assert distinct(_array([]), limit=5).count == 0


def test_hash_sum_is_the_python_fingerprint_sum() -> None:
    values = ["a@x.co", "josé@exämple.com", "z@y.org"]
    assert hash_sum(pa.array(values, type=pa.string())) == sum(map(text_hash, values))


def test_email_set_is_a_lazy_set_view() -> None:
    view = EmailSet(pa.array(["a@x.co", "b@x.co"], type=pa.string()))
    assert len(view) == 2 and sorted(view) == ["a@x.co", "b@x.co"]
    assert "a@x.co" in view and "c@x.co" not in view
    assert view == {"a@x.co", "b@x.co"} and view <= {"a@x.co", "b@x.co", "c@x.co"}
    assert view != frozenset({"a@x.co"})
