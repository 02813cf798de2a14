"""Pending bulk jobs: recorded before waiting, finished after, listed per list."""

from __future__ import annotations

from reconciler.state import SqlStateBackend


def test_pending_jobs(backend: SqlStateBackend) -> None:
    assert backend.jobs.pending("acct", "L1") == []
    backend.jobs.record("acct", "L1", ["job-a", "job-b", "job-c"], "run1")
    backend.jobs.record("acct", "L1", ["job-a"], "run2")  # recorded twice: kept once
    backend.jobs.record("acct", "L2", ["job-x"], "run1")
    backend.jobs.record("acct", "L1", [], "run1")
    assert sorted(backend.jobs.pending("acct", "L1")) == ["job-a", "job-b", "job-c"]

    backend.jobs.finish(["job-b", "job-unknown"])
    assert sorted(backend.jobs.pending("acct", "L1")) == ["job-a", "job-c"]
    assert backend.jobs.pending("acct", "L2") == ["job-x"]
    assert backend.jobs.pending("other", "L1") == []

    backend.jobs.finish(["job-a", "job-c", "job-x"])
    backend.jobs.finish([])
    assert backend.jobs.pending("acct", "L1") == []
    assert backend.jobs.pending("acct", "L2") == []


def test_many_jobs_finish_in_chunks(backend: SqlStateBackend) -> None:
    ids = [f"job-{i:05d}" for i in range(1200)]
    backend.jobs.record("acct", "L1", ids, "run1")
    backend.jobs.finish(ids[:1100])
    assert backend.jobs.pending("acct", "L1") == ids[1100:]


def test_the_run_that_submitted_each_job_is_known_after_it_finished(
    backend: SqlStateBackend,
) -> None:
    backend.jobs.record("acct", "L1", ["job-a", "job-b"], "run1")
    backend.jobs.record("acct", "L1", ["job-c"], "run2")
    backend.jobs.finish(["job-a", "job-c"])
    found = backend.jobs.submitters(["job-a", "job-c", "job-a", "job-unknown"])
    assert found == {"job-a": "run1", "job-c": "run2"}
    assert backend.jobs.submitters([]) == {}
