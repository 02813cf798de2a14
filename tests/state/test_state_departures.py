"""Departed members (issue 18): who left a list outside the reconciler, recorded per list, on
SQLite and PostgreSQL; a version 3 state gains the tables by migration and keeps its data."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from reconciler import lookup
from reconciler.engine import departures as engine_departures
from reconciler.engine.departures import note_departures
from reconciler.state import SqlStateBackend, departures, open_state, schema
from reconciler.state.departures import LEFT, NOT_KEPT
from reconciler.state.storedcolumn import StoredColumn
from tests.state.conftest import RawExecute


def test_departures_are_kept_per_list_with_how_they_were_noticed(
    backend: SqlStateBackend,
) -> None:
    ledger = backend.departures
    ledger.record("acct", "L1", ["a@x.co", "b@x.co"], LEFT)
    ledger.record("acct", "L1", ["b@x.co", "c@x.co"], NOT_KEPT)  # b keeps its first record
    ledger.record("acct", "L2", ["a@x.co"], NOT_KEPT)
    assert ledger.departed("acct", "L1") == {"a@x.co", "b@x.co", "c@x.co"}
    assert ledger.how("acct", "L1") == {"a@x.co": LEFT, "b@x.co": LEFT, "c@x.co": NOT_KEPT}
    assert ledger.departed("other", "L1") == set()
    ledger.forget("acct", "L1", ["a@x.co", "zz@x.co"])
    assert ledger.departed("acct", "L1") == {"b@x.co", "c@x.co"}
    assert ledger.departed("acct", "L2") == {"a@x.co"}


@pytest.mark.parametrize("piece", [7, 1 << 20])  # inflated a few bytes at a time, or at once
def test_unconfirmed_imports_are_kept_until_a_read_confirms_them(
    backend: SqlStateBackend, piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(departures, "_PIECE", piece)
    ledger = backend.departures
    ledger.record_imported("acct", "L1", "run1", ["a@x.co", "b@x.co"])
    ledger.record_imported("acct", "L1", "run2", ["c@x.co"])
    ledger.record_imported("acct", "L2", "run2", ["d@x.co"])
    big = [f"i{i}@x.co" for i in range(100_000)]  # a first sync's imports: one blob
    ledger.record_imported("acct", "L4", "run3", big)
    assert ledger.imported("acct", "L1").to_pylist() == ["a@x.co", "b@x.co", "c@x.co"]
    assert ledger.imported("acct", "L4").to_pylist() == big
    ledger.confirm_imported("acct", "L1")
    assert ledger.imported("acct", "L1").to_pylist() == []
    assert ledger.imported("acct", "L2").to_pylist() == ["d@x.co"]
    many = [f"m{i}@x.co" for i in range(1_234)]  # more than one IN (...) list
    ledger.record("acct", "L3", many, LEFT)
    ledger.forget("acct", "L3", many[:1_000])
    assert ledger.departed("acct", "L3") == set(many[1_000:])
    ledger.drop("acct", "L2")
    assert not len(ledger.imported("acct", "L2")) and ledger.departed("acct", "L2") == set()


def test_a_version_3_state_gains_the_departure_tables(
    state_url: str, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:3])
        with open_state(state_url) as state:
            state.jobs.record("acct", "L1", ["job1"], "run1")
    with open_state(state_url) as state:
        assert state.jobs.pending("acct", "L1") == ["job1"]
        state.departures.record("acct", "L1", ["a@x.co"], LEFT)
        assert state.departures.departed("acct", "L1") == {"a@x.co"}
    versions = raw("SELECT version FROM reconciler_schema_version ORDER BY version")
    assert [tuple(v) for v in versions] == [(v,) for v in range(1, len(schema.MIGRATIONS) + 1)]


def test_imports_missing_from_a_read_become_not_kept_piece_by_piece(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check streams the imports (here a few bytes at a time, over two runs) against the
    list keyed once: those missing are recorded, the imports confirmed, the rest untouched."""
    monkeypatch.setattr(departures, "_PIECE", 5)
    monkeypatch.setattr(lookup, "SLICE", 2)  # the keyed lookup, as for a large list
    ledger = backend.departures
    ledger.record_imported("acct", "L1", "run1", [f"a{i}@x.co" for i in range(40)])
    ledger.record_imported("acct", "L1", "run2", ["b@x.co", "c@x.co"])
    listed = pa.array([f"a{i}@x.co" for i in range(40) if i != 7] + ["c@x.co", "z@x.co"])
    departed = note_departures(backend, "acct", "L1", listed, None)
    assert departed == {"a7@x.co", "b@x.co"}
    assert ledger.how("acct", "L1") == {"a7@x.co": NOT_KEPT, "b@x.co": NOT_KEPT}
    assert not len(ledger.imported("acct", "L1"))


def test_a_stored_list_is_read_once_a_piece_of_imports(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list left in the state (a stream): the same departures as the list in memory, and
    one pass over it for each ``PIECE`` of imports, however the ledger cuts them."""
    monkeypatch.setattr(departures, "_PIECE", 5)  # the ledger's pieces: a few addresses each
    monkeypatch.setattr(lookup, "SLICE", 2)
    monkeypatch.setattr(engine_departures, "PIECE", 16)
    ledger = backend.departures
    ledger.record_imported("acct", "L1", "run1", [f"a{i}@x.co" for i in range(40)])
    listed = [f"a{i}@x.co" for i in range(40) if i not in (7, 30)] + ["z@x.co"]
    reads: list[int] = []

    def read() -> Iterator[pa.StringArray]:
        reads.append(1)
        yield pa.array(listed[:10])
        yield pa.array(listed[10:])

    stored = StoredColumn(len(listed), read)
    departed = note_departures(backend, "acct", "L1", stored, None)
    assert departed == {"a7@x.co", "a30@x.co"}
    assert len(reads) == 3 + 1  # 40 imports in pieces of 16, then the departed still out
