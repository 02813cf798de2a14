"""The sent-profiles store: a snapshot and a log of changes, replayed and folded."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler.state import SqlStateBackend
from reconciler.state import sent as sent_module
from reconciler.state.sent import SentRows, merged
from tests.state.conftest import RawExecute

ACCOUNT, LIST = "acct", "L1"


def _rows(emails: list[str], digest: int | None, **channels: bool | None) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "email": pa.array(emails, pa.string()),
        "first_name": pa.array([digest] * len(emails), pa.uint64()),
    }
    for channel, flag in channels.items():
        columns[f"subscribed.{channel}"] = pa.array([flag] * len(emails), pa.bool_())
    return pa.table(columns)


def _as_dict(table: pa.Table | None) -> dict[str, dict[str, object]]:
    assert table is not None
    rows = table.to_pylist()
    return {r.pop("email"): r for r in rows}


def _forget(*emails: str) -> pa.Array:
    return pa.array(list(emails), pa.string())


def test_merge_keeps_old_values_where_the_new_row_is_null() -> None:
    old = _rows(["a@x.io", "b@x.io", "c@x.io"], 1, email=True)
    new = pa.table(
        {
            "email": pa.array(["b@x.io", "d@x.io"]),
            "first_name": pa.array([None, 7], pa.uint64()),
            "subscribed.sms": pa.array([True, None], pa.bool_()),
        }
    )
    got = _as_dict(merged(old, new, forget=_forget("a@x.io", "d@x.io")))
    assert got == {
        "b@x.io": {"first_name": 1, "subscribed.email": True, "subscribed.sms": True},
        "c@x.io": {"first_name": 1, "subscribed.email": True, "subscribed.sms": None},
    }


def test_an_apply_appends_only_its_change(backend: SqlStateBackend, raw: RawExecute) -> None:
    store = backend.sent
    store.record(ACCOUNT, LIST, _rows([f"m{i}@x.io" for i in range(1000)], 1), None)
    store.record(ACCOUNT, LIST, _rows(["m1@x.io", "new@x.io"], 2), _forget("m2@x.io"))
    store.record(ACCOUNT, LIST, None, _forget("new@x.io"))
    counts = raw("SELECT row_count FROM reconciler_sent_changes WHERE list_id = 'L1' ORDER BY seq")
    assert [int(c[0]) for c in counts] == [3, 1]  # the snapshot itself was written once
    (members,) = raw("SELECT member_count FROM reconciler_sent_profiles WHERE list_id = 'L1'")
    assert int(members[0]) == 1000
    got = _as_dict(store.load(ACCOUNT, LIST))
    assert len(got) == 999 and "m2@x.io" not in got and "new@x.io" not in got
    assert got["m1@x.io"]["first_name"] == 2 and got["m3@x.io"]["first_name"] == 1


def test_replaying_the_log_equals_merging_each_change(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sent_module, "COMPACT_CHANGES", 3)
    store = backend.sent
    expected: pa.Table | None = None
    changes = [
        (_rows(["a@x.io", "b@x.io"], 1, email=True), None),
        (_rows(["c@x.io"], 2), _forget("a@x.io")),
        (None, _forget("c@x.io")),
        (_rows(["a@x.io", "c@x.io"], 3, sms=True), None),
        (_rows(["b@x.io"], 4), _forget("zz@x.io")),
        (_rows(["d@x.io"], 5, email=True), None),
    ]
    for step, (rows, forget) in enumerate(changes):
        store.record(ACCOUNT, LIST, rows, forget)
        if rows is not None:
            expected = merged(expected, rows, forget=forget)
        elif expected is not None and forget is not None:
            expected = merged(expected, expected.slice(0, 0), forget=forget)
        assert _as_dict(store.load(ACCOUNT, LIST)) == _as_dict(expected), step


def test_the_log_is_folded_once_it_grows(
    backend: SqlStateBackend, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sent_module, "COMPACT_MIN", 10)
    store = backend.sent
    store.record(ACCOUNT, LIST, _rows([f"m{i}@x.io" for i in range(40)], 1), None)
    store.record(ACCOUNT, LIST, _rows([f"n{i}@x.io" for i in range(8)], 1), None)
    assert len(raw("SELECT seq FROM reconciler_sent_changes")) == 1
    store.record(ACCOUNT, LIST, _rows([f"o{i}@x.io" for i in range(8)], 1), None)  # 16 > 10
    assert raw("SELECT seq FROM reconciler_sent_changes") == []
    (members,) = raw("SELECT member_count FROM reconciler_sent_profiles")
    assert int(members[0]) == 56
    assert len(_as_dict(store.load(ACCOUNT, LIST))) == 56


def test_a_damaged_change_makes_the_record_missing(
    backend: SqlStateBackend, raw: RawExecute, state_url: str
) -> None:
    store = backend.sent
    store.record(ACCOUNT, LIST, _rows(["a@x.io"], 1), None)
    store.record(ACCOUNT, LIST, _rows(["b@x.io"], 1), None)
    garbage = "'\\x0001'::bytea" if state_url.startswith("postgresql") else "X'0001'"
    raw(f"UPDATE reconciler_sent_changes SET changes = {garbage}")
    assert store.load(ACCOUNT, LIST) is None  # fields are sent again, never half a record


def test_only_a_removal_before_anything_was_sent_records_nothing(
    backend: SqlStateBackend,
) -> None:
    backend.sent.record(ACCOUNT, LIST, None, _forget("a@x.io"))
    assert backend.sent.load(ACCOUNT, LIST) is None


def _rows_as_dict(rows: SentRows | None) -> dict[str, dict[str, object]]:
    """The rows read a piece at a time that still name a member (a replaced or forgotten
    snapshot row has a null email), each email once, every column of any piece."""
    assert rows is not None
    found: dict[str, dict[str, object]] = {}
    for piece in rows.pieces():
        for row in piece.to_pylist():
            email = row.pop("email")
            if email is not None:
                assert email not in found
                found[email] = row
    return found


def _filled(rows: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """Rows with every column any row has (a piece lacks the columns added after it)."""
    names = {name for row in rows.values() for name in row}
    return {e: {n: row.get(n) for n in sorted(names)} for e, row in rows.items()}


@pytest.mark.parametrize("batch", [1_048_576, 7])
def test_rows_read_a_batch_at_a_time_are_the_loaded_rows(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(sent_module, "COMPACT_CHANGES", 100)
    monkeypatch.setattr(sent_module, "BATCH", batch)
    store = backend.sent
    store.record(ACCOUNT, LIST, _rows([f"m{i}@x.io" for i in range(40)], 1, email=True), None)
    store.record(ACCOUNT, LIST, _rows(["m1@x.io", "new@x.io"], 2), _forget("m2@x.io", "m3@x.io"))
    store.record(ACCOUNT, LIST, None, _forget("new@x.io", "m4@x.io"))
    store.record(ACCOUNT, LIST, _rows(["m4@x.io", "m30@x.io"], 5, sms=True), None)
    exact = _filled(_as_dict(store.load(ACCOUNT, LIST)))
    rows = store.rows(ACCOUNT, LIST)
    assert _filled(_rows_as_dict(rows)) == exact and len(exact) == 38
    assert rows is not None
    pieces = list(rows.pieces())
    assert len(pieces) == -(-40 // batch) + 1  # the snapshot's batches, then the log's rows
    nulled = sum(piece["email"].null_count for piece in pieces[:-1])
    assert nulled == 5  # the snapshot's rows the log touched: m1 to m4, m30
    assert _filled(_rows_as_dict(rows)) == exact  # a second read gives the same


def test_rows_of_a_log_alone_and_of_nothing(backend: SqlStateBackend) -> None:
    store = backend.sent
    assert store.rows(ACCOUNT, LIST) is None  # nothing recorded
    store.record(ACCOUNT, LIST, _rows(["a@x.io"], 1), None)  # the first record: a snapshot
    assert _rows_as_dict(store.rows(ACCOUNT, LIST)) == _as_dict(store.load(ACCOUNT, LIST))


def test_a_damaged_snapshot_reads_as_no_rows(backend: SqlStateBackend) -> None:
    backend.sent.record(ACCOUNT, LIST, _rows([f"m{i}@x.io" for i in range(10)], 1), None)
    db = backend.sent._db  # the store's own database: the snapshot's bytes replaced
    db.execute("UPDATE reconciler_sent_profiles SET snapshot = ?", (b"\x00\x00\xff\xff garbage",))
    assert backend.sent.rows(ACCOUNT, LIST) is None
    assert backend.sent.load(ACCOUNT, LIST) is None


def test_small_batches_are_gathered_into_pieces() -> None:
    """A snapshot folded from a first sync's log holds one small batch a job: the plan looks
    them up a piece of ``rows`` at a time (each piece costs a pass over the segment), a column
    one batch lacks null there."""
    first = pa.table(
        {"email": ["a@x.co", "b@x.co", "c@x.co"], "k": pa.array([1, 2, 3], pa.uint64())}
    )
    third = pa.table({"email": ["f@x.co"], "k": pa.array([6], pa.uint64())})

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, first.schema) as writer:  # a snapshot of two small batches
        writer.write_table(first)
        writer.write_table(third)
    change = pa.table({"email": ["d@x.co", "e@x.co"]})  # and a log naming two more members
    rows = SentRows.of(sink.getvalue(), [change])
    assert rows is not None
    pieces = list(sent_module.pieces_of(rows, 3))
    assert [p.num_rows for p in pieces] == [3, 3]  # batches of 3 and 1, a tail of 2
    assert pieces[0]["email"].to_pylist() == ["a@x.co", "b@x.co", "c@x.co"]
    assert pieces[1]["email"].to_pylist() == ["f@x.co", "d@x.co", "e@x.co"]
    assert pieces[1]["k"].to_pylist() == [6, None, None]  # the tail has no ``k``: never sent
