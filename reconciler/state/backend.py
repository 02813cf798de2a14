"""The state backend: journal, locks, membership cache and pending jobs over one database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol, Self

from reconciler.outcomes import Outcome
from reconciler.state.cache import MembershipCache
from reconciler.state.columnar import MemberColumns, MemberSnapshot
from reconciler.state.database import Database
from reconciler.state.jobs import PendingJobs
from reconciler.state.journal import Journal
from reconciler.state.records import CachedMembership, ExportRecord, RunRecord, RunStart


class ListLocks(Protocol):
    """How a backend locks lists (file locks with SQLite, advisory locks with PostgreSQL)."""

    def lock_list(
        self, key: str, holder: str, *, timeout: float
    ) -> AbstractContextManager[None]: ...
    def force_unlock(self, key: str) -> bool: ...
    def lock_holder(self, key: str) -> str | None: ...
    def held_locks(self) -> dict[str, str]: ...


class SqlStateBackend:
    """Implements :class:`reconciler.state.StateBackend` for SQLite and PostgreSQL alike."""

    def __init__(self, db: Database, locks: ListLocks, *, description: str) -> None:
        self.db = db
        self.description = description
        self._locks = locks
        self._journal = Journal(db)
        self._cache = MembershipCache(db)
        self._jobs = PendingJobs(db)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"

    # journal
    def start_run(self, run: RunStart) -> str:
        return self._journal.start_run(run)

    def record_export(self, run_id: str, record: ExportRecord) -> None:
        self._journal.record_export(run_id, record)

    def finish_run(self, run_id: str, outcome: Outcome) -> None:
        self._journal.finish_run(run_id, outcome)

    def list_runs(self, *, export: str | None = None, limit: int = 50) -> list[RunRecord]:
        return self._journal.list_runs(export=export, limit=limit)

    def last_run_of(
        self, export: str, *, outcomes: Sequence[str] = ("succeeded",)
    ) -> RunRecord | None:
        return self._journal.last_run_of(export, outcomes=outcomes)

    # locks
    def lock_list(self, key: str, holder: str, *, timeout: float) -> AbstractContextManager[None]:
        return self._locks.lock_list(key, holder, timeout=timeout)

    def force_unlock(self, key: str) -> bool:
        return self._locks.force_unlock(key)

    def lock_holder(self, key: str) -> str | None:
        return self._locks.lock_holder(key)

    def held_locks(self) -> dict[str, str]:
        return self._locks.held_locks()

    # membership cache
    def load_membership(self, account: str, list_id: str) -> CachedMembership | None:
        return self._cache.load(account, list_id)

    def has_membership(self, account: str, list_id: str) -> bool:
        return self._cache.exists(account, list_id)

    def load_member_columns(self, account: str, list_id: str) -> MemberColumns | None:
        return self._cache.load_columns(account, list_id)

    def save_membership(
        self, account: str, list_id: str, members: Iterable[tuple[str, str, dt.datetime]]
    ) -> None:
        self._cache.save(account, list_id, members)

    def save_member_columns(self, account: str, list_id: str, members: MemberSnapshot) -> None:
        self._cache.save_columns(account, list_id, members)

    def update_membership(
        self,
        account: str,
        list_id: str,
        *,
        added: Iterable[tuple[str, str, dt.datetime]],
        removed_profile_ids: Iterable[str],
        without_email: int = 0,
        as_of: dt.datetime | None = None,
    ) -> None:
        self._cache.update(
            account, list_id, added, removed_profile_ids, without_email=without_email, as_of=as_of
        )

    def drop_membership(self, account: str, list_id: str) -> None:
        self._cache.drop(account, list_id)

    # pending jobs
    def record_jobs(self, account: str, list_id: str, job_ids: Sequence[str], run_id: str) -> None:
        self._jobs.record(account, list_id, job_ids, run_id)

    def pending_jobs(self, account: str, list_id: str) -> list[str]:
        return self._jobs.pending(account, list_id)

    def finish_jobs(self, job_ids: Sequence[str]) -> None:
        self._jobs.finish(job_ids)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
