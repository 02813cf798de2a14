"""The append-only journal of runs: who applied what, when, with which result.

Only the run in flight can change (once: ``finish_run``); the database's triggers refuse any
other UPDATE or DELETE. Free-text values pass through :func:`redact` so that no email address
is ever stored here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from reconciler.errors import StateError
from reconciler.outcomes import Outcome
from reconciler.state.database import Database, Row, marks
from reconciler.state.records import (
    RUN_OUTCOMES,
    RUNNING,
    ExportRecord,
    RunRecord,
    RunStart,
    now,
    utc,
)
from reconciler.state.redact import redact, redact_optional

_RUN_COLUMNS = (
    "run_id, actor, git_commit, plan_checksum, command, forced, started_at, finished_at, outcome"
)
_EXPORT_COLUMNS = (
    "run_id, export, list_id, connection, added, removed, failed, job_ids, guards_forced, "
    "started_at, finished_at, outcome, error, updated, subscribed"
)
# An export that changed nothing counts as a success when asking for the last successful run.
_EQUIVALENT = {Outcome.SUCCEEDED: (Outcome.SUCCEEDED, Outcome.UNCHANGED)}


class Journal:
    """Runs and their export records in one database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start_run(self, run: RunStart, run_id: str | None = None) -> str:
        """Journal a run in flight (``run_id``: one made with :func:`new_run_id` beforehand)."""
        run_id = run_id or new_run_id()
        self._db.execute(
            f"INSERT INTO reconciler_runs ({_RUN_COLUMNS}) VALUES ({marks(9)})",
            (
                run_id,
                run.actor,
                redact_optional(run.commit),
                redact_optional(run.plan_checksum),
                redact(run.command),
                run.forced,
                self._db.ts_in(now()),
                None,
                str(RUNNING),
            ),
        )
        return run_id

    def record_export(self, run_id: str, record: ExportRecord) -> None:
        _check_outcome(record.outcome)
        self._require_open(run_id)
        self._db.execute(
            f"INSERT INTO reconciler_exports ({_EXPORT_COLUMNS}) VALUES ({marks(15)})",
            (
                run_id,
                redact(record.export),
                redact(record.list_id),
                redact(record.connection),
                record.added,
                record.removed,
                record.failed,
                json.dumps([redact(j) for j in record.job_ids]),
                json.dumps([redact(g) for g in record.guards_forced]),
                self._db.ts_in(utc(record.started_at)),
                self._db.ts_in(utc(record.finished_at)),
                str(record.outcome),
                redact_optional(record.error),
                record.updated,
                record.subscribed,
            ),
        )

    def finish_run(self, run_id: str, outcome: Outcome) -> None:
        _check_outcome(outcome)
        changed = self._db.execute(
            "UPDATE reconciler_runs SET finished_at = ?, outcome = ? "
            "WHERE run_id = ? AND finished_at IS NULL",
            (self._db.ts_in(now()), str(outcome), run_id),
        )
        if not changed:
            self._require_open(run_id)

    def unfinished(self) -> list[str]:
        """The ids of the runs journalled as in flight (``running``), oldest first."""
        rows = self._db.fetch(
            "SELECT run_id FROM reconciler_runs WHERE finished_at IS NULL "
            "ORDER BY started_at, run_id",
            (),
        )
        return [str(row[0]) for row in rows]

    def abandon(self, run_id: str) -> bool:
        """Journal a run whose process ended without finishing it (killed) as ``interrupted``;
        False when it had finished meanwhile."""
        changed = self._db.execute(
            "UPDATE reconciler_runs SET finished_at = ?, outcome = ? "
            "WHERE run_id = ? AND finished_at IS NULL",
            (self._db.ts_in(now()), str(Outcome.INTERRUPTED), run_id),
        )
        return bool(changed)

    def list_runs(self, *, export: str | None = None, limit: int = 50) -> list[RunRecord]:
        if limit < 1:
            raise StateError(f"limit must be at least 1, got {limit}")
        where, params = ("", []) if export is None else (_HAS_EXPORT, [export])
        rows = self._db.fetch(
            f"SELECT {_RUN_COLUMNS} FROM reconciler_runs r {where} "
            "ORDER BY started_at DESC, run_id DESC LIMIT ?",
            [*params, limit],
        )
        return self._with_exports(rows, export)

    def last_run_of(
        self, export: str, *, outcomes: Sequence[Outcome] = (Outcome.SUCCEEDED,)
    ) -> RunRecord | None:
        wanted = sorted({str(o) for name in outcomes for o in _EQUIVALENT.get(name, (name,))})
        rows = self._db.fetch(
            f"SELECT {_RUN_COLUMNS} FROM reconciler_runs r WHERE EXISTS (SELECT 1 FROM "
            "reconciler_exports e WHERE e.run_id = r.run_id AND e.export = ? "
            f"AND e.outcome IN ({marks(len(wanted))})) "
            "ORDER BY started_at DESC, run_id DESC LIMIT 1",
            [export, *wanted],
        )
        runs = self._with_exports(rows, export)
        return runs[0] if runs else None

    def _require_open(self, run_id: str) -> None:
        row = self._db.fetch_one(
            "SELECT finished_at FROM reconciler_runs WHERE run_id = ?", (run_id,)
        )
        if row is None:
            raise StateError(f"no run {run_id} in the journal")
        if row[0] is not None:
            raise StateError(f"run {run_id} is already finished; the journal is append-only")

    def _with_exports(self, rows: list[Row], export: str | None) -> list[RunRecord]:
        if not rows:
            return []
        ids = [row[0] for row in rows]
        extra, params = ("", []) if export is None else (" AND export = ?", [export])
        records: dict[str, list[ExportRecord]] = {run_id: [] for run_id in ids}
        for row in self._db.fetch(
            f"SELECT {_EXPORT_COLUMNS} FROM reconciler_exports "
            f"WHERE run_id IN ({marks(len(ids))}){extra} ORDER BY id",
            [*ids, *params],
        ):
            records[row[0]].append(self._export(row))
        return [self._run(row, records[row[0]]) for row in rows]

    def _run(self, row: Row, exports: list[ExportRecord]) -> RunRecord:
        return RunRecord(
            run_id=row[0],
            actor=row[1],
            commit=row[2],
            plan_checksum=row[3],
            command=row[4],
            forced=bool(row[5]),
            started_at=self._db.ts_out(row[6]),
            finished_at=self._db.ts_out_optional(row[7]),
            outcome=Outcome(row[8]),
            exports=exports,
        )

    def _export(self, row: Row) -> ExportRecord:
        return ExportRecord(
            export=row[1],
            list_id=row[2],
            connection=row[3],
            added=row[4],
            removed=row[5],
            failed=row[6],
            job_ids=tuple(json.loads(row[7])),
            guards_forced=tuple(json.loads(row[8])),
            started_at=self._db.ts_out(row[9]),
            finished_at=self._db.ts_out(row[10]),
            outcome=Outcome(row[11]),
            error=row[12],
            updated=int(row[13] or 0),
            subscribed=int(row[14] or 0),
        )


def new_run_id() -> str:
    return uuid.uuid4().hex


_HAS_EXPORT = (
    "WHERE EXISTS (SELECT 1 FROM reconciler_exports e WHERE e.run_id = r.run_id AND e.export = ?)"
)


def _check_outcome(outcome: str) -> None:
    if outcome not in RUN_OUTCOMES:
        known = ", ".join(sorted(RUN_OUTCOMES))
        raise StateError(f"unknown outcome {outcome!r} (known: {known})")
