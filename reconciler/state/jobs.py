"""Bulk import jobs submitted but not seen finished, so a later run waits instead of resending."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.state.database import Database, chunks, marks
from reconciler.state.records import now


class PendingJobs:
    """Job ids per (account, list id): recorded before waiting, marked done after."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, account: str, list_id: str, job_ids: Sequence[str], run_id: str) -> None:
        if not job_ids:
            return
        submitted = self._db.ts_in(now())
        self._db.executemany(
            "INSERT INTO reconciler_jobs (job_id, account, list_id, run_id, submitted_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
            [(job_id, account, list_id, run_id, submitted) for job_id in job_ids],
        )

    def pending(self, account: str, list_id: str) -> list[str]:
        rows = self._db.fetch(
            "SELECT job_id FROM reconciler_jobs WHERE account = ? AND list_id = ? "
            "AND finished_at IS NULL ORDER BY submitted_at, job_id",
            (account, list_id),
        )
        return [row[0] for row in rows]

    def finish(self, job_ids: Sequence[str]) -> None:
        finished = self._db.ts_in(now())
        with self._db.transaction():
            for part in chunks(job_ids):
                self._db.execute(
                    f"UPDATE reconciler_jobs SET finished_at = ? WHERE job_id IN "
                    f"({marks(len(part))}) AND finished_at IS NULL",
                    [finished, *part],
                )

    def submitters(self, job_ids: Sequence[str]) -> dict[str, str]:
        """The run that submitted each of ``job_ids`` (those the state knows)."""
        found: dict[str, str] = {}
        for part in chunks(job_ids):
            rows = self._db.fetch(
                f"SELECT job_id, run_id FROM reconciler_jobs WHERE job_id IN ({marks(len(part))})",
                part,
            )
            found.update((row[0], row[1]) for row in rows)
        return found
