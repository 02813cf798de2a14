"""A segment large enough to spill gives what one held in memory gives: the same emails,
fingerprint, digests and fields, with its emails, mapped values and digests in private files.
The threshold is lowered so that a few rows take the large-segment path."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from reconciler import spill
from reconciler.chunkstream import in_memory
from reconciler.sources import SegmentData, collect, read_segment
from reconciler.sources.fields import ProfileFields
from reconciler.sources.gathered import GatheredEmails
from reconciler.spill import SpilledStrings
from tests.sources.conftest import config, export, file_source, segment

ROWS = [
    "email,first_name,tier,score",
    "a@x.io,Ann,gold,1",
    "B@x.io,Bob,,2",
    "a@x.io,Again,silver,3",  # a duplicate: the first row wins
    "not-an-email,Nope,gold,4",
    "c@x.io,,bronze,",
    *[f"p{i}@x.io,P{i},gold,{i}" for i in range(40)],
]


def _read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spill_at: int) -> SegmentData:
    monkeypatch.setattr(collect, "SPILL_AT", spill_at)
    (tmp_path / "people.csv").write_text("\n".join(ROWS) + "\n")
    exp = export("e", "s", first_name="first_name", properties={"tier": "tier", "score": "score"})
    cfg = config(
        [file_source("src", {"people": "people.csv"})], [segment("s", "src", table="people")], [exp]
    )
    return read_segment(cfg, exp, tmp_path, batch_size=7)


def test_a_spilled_segment_reads_as_one_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "BATCH", 4)
    held, spilled = _read(tmp_path, monkeypatch, 10**9), _read(tmp_path, monkeypatch, 1)
    assert isinstance(spilled.email_array, SpilledStrings)
    assert not isinstance(held.email_array, SpilledStrings) and held.email_array is not None
    assert in_memory(spilled.email_array).to_pylist() == held.email_array.to_pylist()
    assert spilled.fingerprint == held.fingerprint
    assert (
        set(spilled.field_digests)
        == set(held.field_digests)
        == {
            "first_name",
            "properties.score",
            "properties.tier",
        }
    )
    for key, digests in spilled.field_digests.items():
        assert isinstance(digests, SpilledStrings)
        assert in_memory(digests).to_pylist() == in_memory(held.field_digests[key]).to_pylist()
    assert dict(spilled.properties) == dict(held.properties)
    fields = spilled.properties
    assert isinstance(fields, ProfileFields)
    assert fields["a@x.io"] == {"first_name": "Ann", "properties": {"tier": "gold", "score": 1}}
    positions = pa.array([0, 2, 5], pa.int64())
    assert fields.arrow_columns(positions) == held.properties.arrow_columns(positions)  # type: ignore[attr-defined]


def test_without_mapped_fields_the_fingerprint_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "BATCH", 3)

    def read(spill_at: int) -> SegmentData:
        monkeypatch.setattr(collect, "SPILL_AT", spill_at)
        (tmp_path / "people.csv").write_text("\n".join(ROWS) + "\n")
        exp = export("e", "s")
        cfg = config(
            [file_source("src", {"people": "people.csv"})],
            [segment("s", "src", table="people")],
            [exp],
        )
        return read_segment(cfg, exp, tmp_path)

    held, spilled = read(10**9), read(1)
    assert isinstance(spilled.email_array, SpilledStrings)
    assert spilled.fingerprint == held.fingerprint and spilled.field_digests == {}


@pytest.mark.parametrize("spill_at", [1, 6, 10**9])
def test_gathered_emails_spill_from_their_threshold_on(
    spill_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "BATCH", 4)
    gathered = GatheredEmails(spill_at)
    values = [f"p{i}@x.io" for i in range(23)]
    for start in range(0, 23, 5):
        gathered.append(pa.array(values[start : start + 5], pa.string()))
    column = gathered.column()
    assert isinstance(column, SpilledStrings) == (spill_at <= 23)
    assert in_memory(column).to_pylist() == values
    keep = pa.array([i % 3 != 0 for i in range(23)])
    kept = gathered.kept(keep)
    assert in_memory(kept).to_pylist() == [v for i, v in enumerate(values) if i % 3 != 0]
