"""Emails and profile ids left in the membership cache (``load_columns(stored=True)``): the
same members, ids and fingerprint as loading them, on both backends, without holding either."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler.chunkstream import in_memory
from reconciler.errors import StateError
from reconciler.plan.members import MemberTable
from reconciler.state import SqlStateBackend, cache, codec
from reconciler.state.columnar import MemberColumns
from reconciler.state.storedcolumn import StoredColumn

from .conftest import RawExecute
from .test_cache_compaction import logged
from .test_snapshot_columns import snapshot
from .test_state_cache import BASE, members


def as_dict(columns: MemberColumns) -> dict[str, str]:
    return MemberTable(columns.emails, columns.profile_ids).as_dict()


def both(backend: SqlStateBackend) -> tuple[MemberColumns, MemberColumns]:
    loaded = backend.cache.load_columns("acct", "L1")
    stored = backend.cache.load_columns("acct", "L1", stored=True)
    assert loaded is not None and stored is not None
    assert isinstance(stored.profile_ids, StoredColumn)
    assert isinstance(stored.emails, StoredColumn)
    return loaded, stored


def test_stored_ids_give_the_loaded_members_after_any_log(backend: SqlStateBackend) -> None:
    rows = members(3000)
    backend.cache.save_columns("acct", "L1", snapshot(rows, pieces=4))
    loaded, stored = both(backend)
    assert as_dict(stored) == as_dict(loaded) == {e: p for e, p, _ in rows}
    pid = {e: p for e, p, _ in rows}
    emails = [e for e, _, _ in rows]
    new = members(5, start=10_000)
    backend.cache.update("acct", "L1", added=new, removed_profile_ids=[pid[e] for e in emails[:7]])
    back = [(emails[20], "NEW20", BASE), (emails[3], pid[emails[3]], BASE), (new[0][0], "N0", BASE)]
    backend.cache.update("acct", "L1", added=back, removed_profile_ids=[new[1][1]])
    loaded, stored = both(backend)
    assert in_memory(stored.emails).to_pylist() == loaded.emails.to_pylist()  # the same order
    assert as_dict(stored) == as_dict(loaded)
    assert as_dict(stored)[emails[20]] == "NEW20" and emails[5] not in as_dict(stored)
    table, plain = (
        MemberTable(stored.emails, stored.profile_ids),
        MemberTable.from_mapping(as_dict(loaded)),
    )
    assert table.digest() == plain.digest()
    gone = pa.array([i % 97 == 0 for i in range(len(table))])
    digest, rows_at = table.digest_and_rows(gone)
    held = MemberTable(loaded.emails, loaded.profile_ids).digest_and_rows(gone)
    assert digest == held[0] and rows_at.equals(held[1].cast(rows_at.schema))


@pytest.mark.parametrize("where", ["tail", "snapshot", "new"])
def test_members_added_to_stored_ids(backend: SqlStateBackend, where: str) -> None:
    rows = members(500)
    backend.cache.save_columns("acct", "L1", snapshot(rows))
    backend.cache.update("acct", "L1", added=members(3, start=900), removed_profile_ids=[])
    loaded, stored = both(backend)
    email = {"tail": "user901@example.com", "snapshot": "user7@example.com"}.get(where, "x@y.co")
    added = [(email, "AGAIN"), ("fresh@example.com", "FRESH")]
    expected = as_dict(loaded.with_added(added))
    after = stored.with_added(added)
    assert as_dict(after) == expected and len(after.emails) == len(expected)
    assert in_memory(after.emails).to_pylist()[-2:] == [email, "fresh@example.com"]  # last
    # a member added again, wherever it is, leaves both columns stored
    assert isinstance(after.profile_ids, StoredColumn) and isinstance(after.emails, StoredColumn)


def test_stored_columns_are_not_held_in_memory(backend: SqlStateBackend) -> None:
    rows = members(40_000)
    backend.cache.save_columns("acct", "L1", snapshot(rows))
    before = pa.total_allocated_bytes()
    stored = backend.cache.load_columns("acct", "L1", stored=True)
    assert stored is not None
    held = pa.total_allocated_bytes() - before
    emails = sum(len(e) for e, _, _ in rows)
    ids = sum(len(p) for _, p, _ in rows)
    assert held < (emails + ids) // 20  # neither the emails nor the ids
    loaded = backend.cache.load_columns("acct", "L1")
    assert loaded is not None and pa.total_allocated_bytes() - before > held + emails + ids


def test_a_snapshot_changed_before_its_ids_are_read_is_an_error(
    backend: SqlStateBackend,
) -> None:
    backend.cache.save_columns("acct", "L1", snapshot(members(100)))
    stored = backend.cache.load_columns("acct", "L1", stored=True)
    assert stored is not None and isinstance(stored.profile_ids, StoredColumn)
    backend.cache.save_columns("acct", "L1", snapshot(members(101)))
    with pytest.raises(StateError, match="cache of list L1 changed") as raised:
        MemberTable(stored.emails, stored.profile_ids).digest()
    assert raised.value.hint is not None and "plan again" in raised.value.hint
    assert backend.cache.exists("acct", "L1")  # the newer snapshot is sound: kept


def test_damaged_stored_ids_are_an_error_and_drop_the_cache(
    backend: SqlStateBackend, raw: RawExecute, state_url: str
) -> None:
    rows = members(100)
    backend.cache.save_columns("acct", "L1", snapshot(rows))
    stored = backend.cache.load_columns("acct", "L1", stored=True)
    assert stored is not None
    # the newline after the first id becomes a space: the sizes (and the header) stay the same
    n_emails = sum(len(e) + 1 for e, _, _ in rows) - 1
    newline = codec.HEADER_SIZE + n_emails + len(rows[0][1]) + 1  # 1-based
    raw(
        "UPDATE reconciler_membership_snapshots SET snapshot = "
        f"{_overlay(state_url, newline)} WHERE list_id = 'L1'"
    )
    with pytest.raises(StateError, match="damaged"):
        MemberTable(stored.emails, stored.profile_ids).digest()
    assert not backend.cache.exists("acct", "L1")  # the next plan reads the list again


def test_damaged_ids_read_to_replay_a_removal_are_a_missing_cache(
    backend: SqlStateBackend, raw: RawExecute, state_url: str
) -> None:
    rows = members(100)
    backend.cache.save_columns("acct", "L1", snapshot(rows))
    backend.cache.update("acct", "L1", added=[], removed_profile_ids=[rows[3][1]])
    n_emails = sum(len(e) + 1 for e, _, _ in rows) - 1
    newline = codec.HEADER_SIZE + n_emails + len(rows[0][1]) + 1
    raw(
        "UPDATE reconciler_membership_snapshots SET snapshot = "
        f"{_overlay(state_url, newline)} WHERE list_id = 'L1'"
    )
    assert backend.cache.load_columns("acct", "L1", stored=True) is None
    assert not backend.cache.exists("acct", "L1")  # as the loaded form: a full read next


def _overlay(state_url: str, start: int) -> str:
    """SQL that replaces the snapshot's byte at ``start`` (1-based) by a space."""
    if state_url.startswith("postgresql://"):
        return f"overlay(snapshot placing '\\x20'::bytea from {start} for 1)"
    head, rest = f"substr(snapshot, 1, {start - 1})", f"substr(snapshot, {start + 1})"
    return f"CAST({head} || x'20' || {rest} AS BLOB)"


def test_an_update_that_must_not_compact_only_logs(
    backend: SqlStateBackend, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "COMPACT_MIN", 1)
    backend.cache.save_columns("acct", "L1", snapshot(members(8)))
    backend.cache.update("acct", "L1", members(5, start=50), [], compact=False)
    assert logged(raw) == 5
    backend.cache.update("acct", "L1", members(5, start=60), [])
    assert logged(raw) == 0
