"""A snapshot cached straight from Arrow columns: the same blob as from rows, on both backends;
the count of members without an email kept through updates and compaction."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from reconciler.errors import StateError
from reconciler.state import (
    MemberSnapshot,
    SqlStateBackend,
    cache,
    codec,
    open_state,
    postgres_db,
    schema,
)
from reconciler.state.storedcolumn import StoredColumn

from .conftest import RawExecute
from .test_state_cache import BASE, Row, as_dict, members

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def snapshot(
    rows: list[Row],
    *,
    pieces: int = 3,
    without_email: int = 0,
    newest_without_email_us: int | None = None,
) -> MemberSnapshot:
    """``rows`` as chunked columns (``pieces`` chunks), join times as µs."""
    step = max(1, -(-len(rows) // pieces))
    parts = [rows[i : i + step] for i in range(0, len(rows), step)]

    def column(values: list[list[object]], kind: pa.DataType) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(v, type=kind) for v in values], type=kind)

    return MemberSnapshot(
        column([[r[0] for r in p] for p in parts], pa.string()),
        column([[r[1] for r in p] for p in parts], pa.string()),
        column(
            [[(r[2] - EPOCH) // dt.timedelta(microseconds=1) for r in p] for p in parts], pa.int64()
        ),
        without_email,
        newest_without_email_us,
    )


def test_columns_snapshot_is_the_rows_snapshot(
    backend: SqlStateBackend, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_db, "_BLOB_PART", 1 << 20)  # PostgreSQL: appended in parts
    rows = members(150_000)  # more than one slice of the encoder
    rows.append(("", "EMPTY-EMAIL", BASE))
    rows.append(("josé@exämple.com", "UNICODE", BASE + dt.timedelta(days=3, microseconds=7)))
    backend.cache.save("acct", "ROWS", rows)
    backend.cache.save_columns("acct", "COLS", snapshot(rows, pieces=4))
    blobs = raw("SELECT list_id, snapshot FROM reconciler_membership_snapshots ORDER BY list_id")
    assert [b[0] for b in blobs] == ["COLS", "ROWS"]
    assert isinstance(blobs[0][1], bytes | memoryview) and isinstance(
        blobs[1][1], bytes | memoryview
    )
    assert bytes(blobs[0][1]) == bytes(blobs[1][1])
    loaded = backend.cache.load("acct", "COLS")
    columns = backend.cache.load_columns("acct", "COLS")
    assert loaded is not None and columns is not None
    assert loaded.members == as_dict(rows)  # join times exact to the microsecond
    assert loaded.as_of == columns.as_of == max(r[2] for r in rows)
    assert not isinstance(columns.profile_ids, StoredColumn)  # loaded, not left in the state
    assert dict(zip(columns.emails.to_pylist(), columns.profile_ids.to_pylist(), strict=True)) == {
        e: p for e, p, _ in rows
    }
    assert columns.without_email == 0


def test_members_without_email_count_and_move_as_of(backend: SqlStateBackend) -> None:
    rows = members(1_000)
    newest = max(r[2] for r in rows)
    later = newest + dt.timedelta(hours=1)
    later_us = (later - EPOCH) // dt.timedelta(microseconds=1)
    backend.cache.save_columns(
        "acct", "L1", snapshot(rows, without_email=4, newest_without_email_us=later_us)
    )
    cached = backend.cache.load_columns("acct", "L1")
    assert cached is not None
    assert (cached.count, cached.without_email, cached.as_of) == (1_000, 4, later)
    # an incremental read found two more without an email, and one member with
    even_later = later + dt.timedelta(minutes=5)
    backend.cache.update(
        "acct",
        "L1",
        added=[("new@example.com", "NEW", later + dt.timedelta(minutes=1))],
        removed_profile_ids=(),
        without_email=2,
        as_of=even_later,
    )
    cached = backend.cache.load_columns("acct", "L1")
    assert cached is not None
    assert (cached.count, cached.without_email, cached.as_of) == (1_001, 6, even_later)
    # only members without an email: the count and as_of still move
    backend.cache.update(
        "acct", "L1", added=(), removed_profile_ids=(), without_email=1, as_of=even_later
    )
    cached = backend.cache.load_columns("acct", "L1")
    assert cached is not None and (cached.without_email, cached.as_of) == (7, even_later)


def test_compaction_keeps_the_count_and_as_of(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "COMPACT_MIN", 10)
    rows = members(40)
    late_us = (BASE - EPOCH) // dt.timedelta(microseconds=1) + 10**12  # ~11.6 days later
    backend.cache.save_columns(
        "acct", "L1", snapshot(rows, without_email=3, newest_without_email_us=late_us)
    )
    backend.cache.update(
        "acct", "L1", added=members(20, start=500), removed_profile_ids=(), without_email=1
    )
    cached = backend.cache.load_columns("acct", "L1")
    assert cached is not None
    assert (cached.count, cached.without_email) == (60, 4)
    assert cached.as_of == EPOCH + dt.timedelta(microseconds=late_us)


def test_empty_snapshot_and_line_breaks(backend: SqlStateBackend) -> None:
    backend.cache.save_columns("acct", "EMPTY", snapshot([]))
    empty = backend.cache.load_columns("acct", "EMPTY")
    assert empty is not None and (empty.count, empty.as_of, empty.without_email) == (0, None, 0)
    backend.cache.save_columns(
        "acct", "SMS", snapshot([], without_email=5, newest_without_email_us=9)
    )
    only_sms = backend.cache.load_columns("acct", "SMS")
    assert only_sms is not None and (only_sms.count, only_sms.without_email) == (0, 5)
    assert only_sms.as_of == EPOCH + dt.timedelta(microseconds=9)
    with pytest.raises(StateError, match="line break"):
        backend.cache.save_columns("acct", "BAD", snapshot([("a\nb@x.co", "P", BASE)]))
    assert backend.cache.load_columns("acct", "BAD") is None


def test_a_version_1_cache_survives_the_migration(
    state_url: str, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        with open_state(state_url):
            pass
    rows = members(100)
    blob = codec.encode(as_dict(rows)).hex()
    stamp = "'2025-01-01T00:00:33.000099+00:00'"
    literal = f"X'{blob}'" if not state_url.startswith("postgresql") else f"'\\x{blob}'::bytea"
    raw(
        "INSERT INTO reconciler_membership (account, list_id, member_count, change_count, "
        f"as_of, saved_at, snapshot) VALUES ('acct', 'OLD', 100, 0, {stamp}, {stamp}, {literal})"
    )
    with open_state(state_url) as state:
        cached = state.cache.load_columns("acct", "OLD")
    assert cached is not None and (cached.count, cached.without_email) == (100, 0)
    assert cached.as_of == max(r[2] for r in rows)
    # the blob lives apart from the counters each apply updates (version 3)
    moved = "SELECT COUNT(*) FROM reconciler_membership_snapshots WHERE list_id = 'OLD'"
    assert [tuple(r) for r in raw(moved)] == [(1,)]
