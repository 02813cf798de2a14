"""Pending bulk jobs: recorded before waiting, finished after, listed per list."""

from __future__ import annotations

from reconciler.state import SqlStateBackend


def test_pending_jobs(backend: SqlStateBackend) -> None:
    assert backend.pending_jobs("acct", "L1") == []
    backend.record_jobs("acct", "L1", ["job-a", "job-b", "job-c"], "run1")
    backend.record_jobs("acct", "L1", ["job-a"], "run2")  # recorded twice: kept once
    backend.record_jobs("acct", "L2", ["job-x"], "run1")
    backend.record_jobs("acct", "L1", [], "run1")
    assert sorted(backend.pending_jobs("acct", "L1")) == ["job-a", "job-b", "job-c"]

    backend.finish_jobs(["job-b", "job-unknown"])
    assert sorted(backend.pending_jobs("acct", "L1")) == ["job-a", "job-c"]
    assert backend.pending_jobs("acct", "L2") == ["job-x"]
    assert backend.pending_jobs("other", "L1") == []

    backend.finish_jobs(["job-a", "job-c", "job-x"])
    backend.finish_jobs([])
    assert backend.pending_jobs("acct", "L1") == []
    assert backend.pending_jobs("acct", "L2") == []


def test_many_jobs_finish_in_chunks(backend: SqlStateBackend) -> None:
    ids = [f"job-{i:05d}" for i in range(1200)]
    backend.record_jobs("acct", "L1", ids, "run1")
    backend.finish_jobs(ids[:1100])
    assert backend.pending_jobs("acct", "L1") == ids[1100:]
