"""The journal: round trip, append-only (also against raw SQL), no email address stored."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from reconciler.errors import StateError
from reconciler.state import ExportRecord, RunStart, SqlStateBackend

from .conftest import RawExecute

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
EMAIL = re.compile(r"[\w.+*-]+@[\w-]+(?:\.[\w-]+)+")


def record(export: str = "vip", outcome: str = "succeeded", **changes: object) -> ExportRecord:
    values: dict[str, object] = {
        "export": export,
        "list_id": "Y6nRLr",
        "connection": "klaviyo-marketing",
        "added": 10,
        "removed": 2,
        "failed": 1,
        "job_ids": ("job-1", "job-2"),
        "guards_forced": ("max_removals",),
        "started_at": T0,
        "finished_at": T0 + dt.timedelta(seconds=5),
        "outcome": outcome,
        "error": None,
    }
    values.update(changes)
    return ExportRecord(**values)  # type: ignore[arg-type]


def start(backend: SqlStateBackend, command: str = "apply") -> str:
    return backend.journal.start_run(RunStart("octocat", "abc123", "sha256:feed", command, True))


def test_round_trip(backend: SqlStateBackend) -> None:
    run_id = start(backend)
    assert re.fullmatch(r"[0-9a-f]{32}", run_id)
    backend.journal.record_export(run_id, record("vip"))
    backend.journal.record_export(run_id, record("churned", "partial", added=0, job_ids=()))
    backend.journal.finish_run(run_id, "partial")

    [run] = backend.journal.list_runs()
    assert (run.run_id, run.actor, run.commit, run.plan_checksum) == (
        run_id,
        "octocat",
        "abc123",
        "sha256:feed",
    )
    assert run.command == "apply" and run.forced is True and run.outcome == "partial"
    assert run.started_at.tzinfo == dt.UTC and run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert run.exports == [record("vip"), record("churned", "partial", added=0, job_ids=())]
    assert run.exports[0].started_at == T0  # microseconds and UTC survive


def test_run_in_flight_is_listed_as_running(backend: SqlStateBackend) -> None:
    run_id = start(backend)
    [run] = backend.journal.list_runs()
    assert run.run_id == run_id and run.outcome == "running" and run.finished_at is None


def test_filter_limit_and_order(backend: SqlStateBackend) -> None:
    ids = []
    for i in range(4):
        run_id = start(backend, f"apply {i}")
        backend.journal.record_export(run_id, record("vip" if i % 2 == 0 else "other"))
        backend.journal.record_export(run_id, record("shared"))
        backend.journal.finish_run(run_id, "succeeded")
        ids.append(run_id)
    assert [r.run_id for r in backend.journal.list_runs()] == ids[::-1]
    assert [r.run_id for r in backend.journal.list_runs(limit=2)] == ids[:1:-1]
    vip = backend.journal.list_runs(export="vip")
    assert [r.run_id for r in vip] == [ids[2], ids[0]]
    assert all([e.export for e in r.exports] == ["vip"] for r in vip)
    assert backend.journal.list_runs(export="nobody") == []
    with pytest.raises(StateError, match="limit"):
        backend.journal.list_runs(limit=0)


def test_last_run_of(backend: SqlStateBackend) -> None:
    assert backend.journal.last_run_of("vip") is None
    ok = start(backend)
    backend.journal.record_export(ok, record("vip", "succeeded"))
    backend.journal.finish_run(ok, "succeeded")
    same = start(backend)
    backend.journal.record_export(same, record("vip", "unchanged"))
    backend.journal.finish_run(same, "succeeded")
    bad = start(backend)
    backend.journal.record_export(bad, record("vip", "failed", error="boom"))
    backend.journal.finish_run(bad, "failed")

    last = backend.journal.last_run_of("vip")
    assert last is not None and last.run_id == same  # unchanged counts as a success
    failed = backend.journal.last_run_of("vip", outcomes=("failed",))
    assert failed is not None and failed.run_id == bad
    assert failed.exports[0].error == "boom"
    assert backend.journal.last_run_of("other") is None


def test_only_the_run_in_flight_can_change(backend: SqlStateBackend) -> None:
    run_id = start(backend)
    with pytest.raises(StateError, match="unknown outcome"):
        backend.journal.finish_run(run_id, "great")
    backend.journal.finish_run(run_id, "succeeded")
    with pytest.raises(StateError, match="already finished"):
        backend.journal.finish_run(run_id, "failed")
    with pytest.raises(StateError, match="already finished"):
        backend.journal.record_export(run_id, record())
    with pytest.raises(StateError, match="no run"):
        backend.journal.finish_run("0" * 32, "succeeded")
    assert backend.journal.list_runs()[0].outcome == "succeeded"


def test_triggers_refuse_raw_update_and_delete(backend: SqlStateBackend, raw: RawExecute) -> None:
    run_id = start(backend)
    backend.journal.record_export(run_id, record())
    # even the run in flight may only change finished_at and outcome
    with pytest.raises(Exception, match="append-only"):
        raw(f"UPDATE reconciler_runs SET actor = 'mallory' WHERE run_id = '{run_id}'")
    backend.journal.finish_run(run_id, "succeeded")
    statements = [
        f"UPDATE reconciler_runs SET outcome = 'failed' WHERE run_id = '{run_id}'",
        f"DELETE FROM reconciler_runs WHERE run_id = '{run_id}'",
        "UPDATE reconciler_exports SET added = 0",
        "DELETE FROM reconciler_exports",
        f"INSERT INTO reconciler_exports (run_id, export, list_id, connection, added, removed, "
        f"failed, job_ids, guards_forced, started_at, finished_at, outcome) VALUES ('{run_id}', "
        "'x', 'L', 'c', 0, 0, 0, '[]', '[]', '2026-01-01T00:00:00+00:00', "
        "'2026-01-01T00:00:00+00:00', 'succeeded')",
    ]
    for statement in statements:
        with pytest.raises(Exception, match="append-only"):
            raw(statement)
    [run] = backend.journal.list_runs()
    assert run.outcome == "succeeded" and run.actor == "octocat"
    assert [e.added for e in run.exports] == [10]


def test_no_email_address_is_stored(backend: SqlStateBackend, raw: RawExecute) -> None:
    run_id = backend.journal.start_run(
        RunStart("octocat", None, None, "apply --export jane.doe@example.com", False)
    )
    error = "import rejected jane.doe@example.com and <bob+x@shop.example.org>; retry"
    backend.journal.record_export(run_id, record(error=error, job_ids=("job@weird.io",)))
    backend.journal.finish_run(run_id, "failed")

    stored = backend.journal.list_runs()[0]
    assert (
        stored.exports[0].error
        == "import rejected j***e@example.com and <b***x@shop.example.org>; retry"
    )
    assert stored.command == "apply --export j***e@example.com"
    dump = " ".join(
        str(value)
        for table in ("reconciler_runs", "reconciler_exports")
        for row in raw(f"SELECT * FROM {table}")
        for value in row
    )
    assert "jane.doe@example.com" not in dump and "bob+x@shop" not in dump
    assert all("***" in address.split("@")[0] for address in EMAIL.findall(dump))
