"""The membership cache: save/load/update of 100k members, compaction, losses, timezones."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest

from reconciler.state import SqlStateBackend
from reconciler.state.cache import COMPACT_MIN

from .conftest import RawExecute

BASE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
Row = tuple[str, str, dt.datetime]


def members(count: int, start: int = 0, seed: int = 7) -> list[Row]:
    rng = random.Random(seed + start)
    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ0123456789"
    return [
        (
            f"user{i}@example.com",
            "01" + "".join(rng.choices(alphabet, k=24)),
            BASE + dt.timedelta(seconds=i // 3, microseconds=i % 1000),
        )
        for i in range(start, start + count)
    ]


def as_dict(rows: list[Row]) -> dict[str, tuple[str, dt.datetime]]:
    return {email: (pid, joined) for email, pid, joined in rows}


def test_save_and_load_100k(backend: SqlStateBackend) -> None:
    rows = members(100_000)
    started = time.monotonic()
    backend.cache.save("acct", "L1", rows)
    cached = backend.cache.load("acct", "L1")
    assert time.monotonic() - started < 20  # a few seconds for 1M on a quiet machine
    assert cached is not None
    assert cached.members == as_dict(rows)
    assert cached.count == 100_000
    assert cached.as_of == max(joined for _, _, joined in rows)
    assert cached.saved_at is not None and cached.saved_at.tzinfo == dt.UTC
    assert backend.cache.load("acct", "OTHER") is None
    assert backend.cache.load("other-acct", "L1") is None


def test_update_incrementally(backend: SqlStateBackend) -> None:
    rows = members(100_000)
    backend.cache.save("acct", "L1", rows)
    expected = as_dict(rows)
    rng = random.Random(1)
    for round_ in range(4):  # several remove/add batches exercise both replay paths
        gone = rng.sample(sorted(pid for pid, _ in expected.values()), 300)
        new = members(200, start=200_000 + round_ * 1000)
        moved = next(iter(expected))  # an existing email that comes back with a new profile
        new.append((moved, f"NEWPID{round_}", BASE + dt.timedelta(days=30 + round_)))
        backend.cache.update("acct", "L1", added=new, removed_profile_ids=gone)
        by_pid = {pid: email for email, (pid, _) in expected.items()}
        for pid in gone:
            expected.pop(by_pid[pid], None)
        expected.update(as_dict(new))
    backend.cache.update("acct", "L1", added=[], removed_profile_ids=["no-such-id"])

    cached = backend.cache.load("acct", "L1")
    assert cached is not None
    assert cached.members == expected
    assert cached.count == len(expected)
    assert cached.as_of == BASE + dt.timedelta(days=33)


def test_large_update_compacts(backend: SqlStateBackend, raw: RawExecute) -> None:
    rows = members(100_000)
    backend.cache.save("acct", "L1", rows)
    gone = [pid for _, pid, _ in rows[: COMPACT_MIN + 1]]
    backend.cache.update("acct", "L1", added=members(10, 500_000), removed_profile_ids=gone)
    assert raw("SELECT COUNT(*) FROM reconciler_membership_changes")[0][0] == 0
    cached = backend.cache.load("acct", "L1")
    assert cached is not None
    assert cached.members == as_dict(rows[COMPACT_MIN + 1 :] + members(10, 500_000))


def test_update_without_a_snapshot_is_ignored(backend: SqlStateBackend) -> None:
    backend.cache.update("acct", "L1", added=members(5), removed_profile_ids=[])
    assert backend.cache.load("acct", "L1") is None


def test_save_replaces_and_drop_forgets(backend: SqlStateBackend) -> None:
    backend.cache.save("acct", "L1", members(50))
    backend.cache.update("acct", "L1", added=members(5, 1000), removed_profile_ids=[])
    backend.cache.save("acct", "L1", members(3, 77))
    cached = backend.cache.load("acct", "L1")
    assert cached is not None and cached.members == as_dict(members(3, 77))
    backend.cache.save("acct", "EMPTY", [])
    empty = backend.cache.load("acct", "EMPTY")
    assert empty is not None and empty.members == {} and empty.count == 0
    assert empty.as_of is None
    backend.cache.drop("acct", "L1")
    assert backend.cache.load("acct", "L1") is None


def test_datetimes_come_back_aware_utc(backend: SqlStateBackend) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    backend.cache.save(
        "acct",
        "L1",
        [
            ("naive@example.com", "P1", dt.datetime(2025, 5, 1, 10, 0)),
            ("paris@example.com", "P2", dt.datetime(2025, 5, 1, 12, 0, 0, 5, tzinfo=plus_two)),
        ],
    )
    cached = backend.cache.load("acct", "L1")
    assert cached is not None
    assert cached.members["naive@example.com"][1] == dt.datetime(2025, 5, 1, 10, 0, tzinfo=dt.UTC)
    paris = cached.members["paris@example.com"][1]
    assert paris.tzinfo == dt.UTC and paris == dt.datetime(2025, 5, 1, 10, 0, 0, 5, tzinfo=dt.UTC)


def test_a_damaged_snapshot_is_a_cache_miss(backend: SqlStateBackend, raw: RawExecute) -> None:
    backend.cache.save("acct", "L1", members(10))
    raw("UPDATE reconciler_membership_snapshots SET snapshot = substr(snapshot, 1, 20)")
    assert backend.cache.load("acct", "L1") is None
    assert raw("SELECT COUNT(*) FROM reconciler_membership")[0][0] == 0


@pytest.mark.benchmark
def test_one_million_members(backend: SqlStateBackend) -> None:
    rows = members(1_000_000)
    started = time.monotonic()
    backend.cache.save("acct", "BIG", rows)
    saved = time.monotonic() - started
    cached = backend.cache.load("acct", "BIG")
    loaded = time.monotonic() - started - saved
    assert cached is not None and cached.count == 1_000_000
    assert saved < 5 and loaded < 5, (saved, loaded)
