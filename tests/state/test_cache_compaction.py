"""Compaction of the membership cache: the same members as replaying the log, without a Python
object per member, on both backends."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest

from reconciler.state import SqlStateBackend, cache, postgres_db

from .conftest import RawExecute
from .test_snapshot_columns import EPOCH, snapshot
from .test_state_cache import BASE, Row, members

Members = dict[str, tuple[str, dt.datetime]]
LATER = BASE + dt.timedelta(days=40)


def apply(expected: Members, added: list[Row], gone: list[str]) -> None:
    """What an update means: the gone profile ids leave (all their emails), then the rows
    arrive (a later row for an email wins)."""
    for email in [e for e, (pid, _) in expected.items() if pid in set(gone)]:
        del expected[email]
    expected.update({email: (pid, joined) for email, pid, joined in added})


def logged(raw: RawExecute) -> int:
    return int(raw("SELECT COUNT(*) FROM reconciler_membership_changes")[0][0])


def test_compaction_keeps_what_the_log_said(
    backend: SqlStateBackend, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "COMPACT_MIN", 10)  # the list's quarter (50) decides
    rows = members(200)
    sms_us = (LATER - EPOCH) // dt.timedelta(microseconds=1)
    backend.cache.save_columns(
        "acct", "L1", snapshot(rows, without_email=2, newest_without_email_us=sms_us - 10**6)
    )
    expected = {email: (pid, joined) for email, pid, joined in rows}
    pid = {email: p for email, p, _ in rows}
    email = [e for e, _, _ in rows]
    new = members(3, start=1_000)
    updates: list[tuple[list[Row], list[str], int]] = [
        # removals, and new members
        (new, [pid[e] for e in email[:5]], 0),
        # an email back with a new profile id; a removed profile back (same id, same email);
        # a removed email back under a new profile id; one email twice (the later row wins)
        (
            [
                (email[10], "NEW10", BASE + dt.timedelta(days=9)),
                (email[1], pid[email[1]], BASE + dt.timedelta(days=9, microseconds=1)),
                (email[0], "NEW0", BASE + dt.timedelta(days=9, microseconds=2)),
                (new[0][0], "TWICE-1", BASE + dt.timedelta(days=9)),
                (new[0][0], "TWICE-2", BASE + dt.timedelta(days=9, microseconds=3)),
            ],
            [],
            1,
        ),
        # the re-added email's new profile leaves; a profile id never seen; a logged member
        (
            [(new[1][0], new[1][1], new[1][2])],
            ["NEW10", "no-such-id", new[2][1]],
            0,
        ),
        (members(2, start=2_000), [pid[email[20]]], 0),
    ]
    for added, gone, sms in updates:
        backend.cache.update("acct", "L1", added=added, removed_profile_ids=gone, without_email=sms)
        apply(expected, added, gone)
    assert logged(raw) > 10  # still a log: the next update folds it
    final = [
        *members(25, start=3_000),
        (email[50], "NEW50", BASE + dt.timedelta(days=20)),
        (email[2], pid[email[2]], BASE + dt.timedelta(days=21)),  # removed in the first update
    ]
    gone = [*(pid[e] for e in email[100:130]), "TWICE-2", new[1][1]]
    backend.cache.update(
        "acct", "L1", added=final, removed_profile_ids=gone, without_email=3, as_of=LATER
    )
    apply(expected, final, gone)
    assert logged(raw) == 0  # compacted

    loaded = backend.cache.load("acct", "L1")
    columns = backend.cache.load_columns("acct", "L1")
    assert loaded is not None and columns is not None
    assert loaded.members == expected  # with the join times, to the microsecond
    pairs = dict(zip(columns.emails.to_pylist(), columns.profile_ids.to_pylist(), strict=True))
    assert pairs == {e: p for e, (p, _) in expected.items()} and columns.count == len(expected)
    assert loaded.as_of == columns.as_of == LATER  # the update's own as_of, later than any row
    assert columns.without_email == 2 + 1 + 3
    row = raw("SELECT member_count, change_count FROM reconciler_membership")
    assert [tuple(r) for r in row] == [(len(expected), 0)]

    # the new snapshot is a snapshot like any other: it takes updates, and compacts again
    later = members(60, start=4_000)
    backend.cache.update("acct", "L1", added=later, removed_profile_ids=[pid[email[199]]])
    apply(expected, later, [pid[email[199]]])
    again = backend.cache.load("acct", "L1")
    assert again is not None and again.members == expected and logged(raw) == 0
    assert again.as_of == LATER


def test_compaction_keeps_the_as_of_of_the_rows(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an as_of of the update, the newest join time of the members kept is the as_of;
    a snapshot emptied by the update has none (as before compaction was columnar)."""
    monkeypatch.setattr(cache, "COMPACT_MIN", 3)
    rows = members(8)
    backend.cache.save("acct", "L1", rows)
    newest = BASE + dt.timedelta(days=5, microseconds=5)
    added = [(f"late{i}@example.com", f"LATE{i}", newest) for i in range(4)]
    backend.cache.update("acct", "L1", added=added, removed_profile_ids=[])
    cached = backend.cache.load_columns("acct", "L1")
    assert cached is not None and (cached.count, cached.as_of) == (12, newest)
    backend.cache.save("acct", "L2", rows)
    backend.cache.update("acct", "L2", added=(), removed_profile_ids=[r[1] for r in rows])
    empty = backend.cache.load("acct", "L2")
    assert empty is not None and empty.members == {} and empty.count == 0
    assert empty.as_of == max(r[2] for r in rows)  # the cached as_of is never lost


def test_a_damaged_snapshot_is_dropped_by_compaction(
    backend: SqlStateBackend, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "COMPACT_MIN", 3)
    backend.cache.save("acct", "L1", members(10))
    raw("UPDATE reconciler_membership_snapshots SET snapshot = substr(snapshot, 1, 60)")
    backend.cache.update("acct", "L1", added=members(5, start=100), removed_profile_ids=[])
    assert raw("SELECT COUNT(*) FROM reconciler_membership")[0][0] == 0
    assert backend.cache.load_columns("acct", "L1") is None


def test_compaction_builds_no_python_object_per_member(
    backend: SqlStateBackend, raw: RawExecute, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compacting 200,000 members: the Python heap stays within a few MB (the pieces read and
    written, the log rows), where a dict of the members takes over 60 MB. Arrow's buffers are
    not traced by tracemalloc; Python strings, tuples and dicts are."""
    monkeypatch.setattr(postgres_db, "_BLOB_PART", 1 << 20)
    monkeypatch.setattr(cache, "PIECE", 1 << 20)
    rows = members(200_000)
    backend.cache.save_columns("acct", "BIG", snapshot(rows))
    del rows
    backend.cache.update(
        "acct", "BIG", added=members(500, start=300_000), removed_profile_ids=["a", "b"]
    )
    assert logged(raw) == 502
    # a quarter of the list has been logged (the rows themselves are not needed here)
    raw("UPDATE reconciler_membership SET change_count = 50000")
    tracemalloc.start()
    try:
        backend.cache.update(
            "acct", "BIG", added=members(3, start=400_000), removed_profile_ids=["c"]
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert logged(raw) == 0
    cached = backend.cache.load_columns("acct", "BIG")
    assert cached is not None and cached.count == 200_503
    assert peak < 12 << 20, f"{peak / 2**20:.1f} MB traced"


@pytest.mark.parametrize("piece", [1, 7, 64, 4096])
def test_compaction_reads_in_pieces_of_any_size(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    """The join times (8 bytes each) come back exact whatever the piece boundaries."""
    monkeypatch.setattr(cache, "COMPACT_MIN", 3)
    monkeypatch.setattr(cache, "PIECE", piece)
    rows = members(300)
    rows.append(("josé@exämple.com", "UNICODE", BASE + dt.timedelta(days=3, microseconds=7)))
    backend.cache.save("acct", "L1", rows)
    added = members(80, start=1_000)
    backend.cache.update("acct", "L1", added=added, removed_profile_ids=[rows[0][1]])
    expected = {email: (pid, joined) for email, pid, joined in rows[1:] + added}
    cached = backend.cache.load("acct", "L1")
    assert cached is not None and cached.members == expected
