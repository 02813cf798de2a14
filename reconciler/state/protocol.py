"""The interface of the state backend: four narrow roles, implemented over SQLite and PostgreSQL.

Callers name the role they use: ``state.journal.start_run(...)``, ``state.locks.lock_list(...)``,
``state.cache.update(...)``, ``state.jobs.record(...)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from reconciler.outcomes import Outcome
from reconciler.state.columnar import MemberColumns, MemberSnapshot
from reconciler.state.records import CachedMembership, ExportRecord, RunRecord, RunStart

MemberRow = tuple[str, str, dt.datetime]  # (email, profile_id, joined_at)


class RunJournal(Protocol):
    """The append-only journal of runs and of what each export did (no address in it)."""

    def start_run(self, run: RunStart) -> str: ...
    def record_export(self, run_id: str, record: ExportRecord) -> None: ...
    def finish_run(self, run_id: str, outcome: Outcome) -> None: ...
    def list_runs(self, *, export: str | None = None, limit: int = 50) -> list[RunRecord]: ...
    def last_run_of(
        self, export: str, *, outcomes: Sequence[Outcome] = (Outcome.SUCCEEDED,)
    ) -> RunRecord | None: ...


class ListLocks(Protocol):
    """List locks: file locks with SQLite, advisory locks with PostgreSQL."""

    def lock_list(
        self, key: str, holder: str, *, timeout: float
    ) -> AbstractContextManager[None]: ...
    def force_unlock(self, key: str) -> bool: ...
    def lock_holder(self, key: str) -> str | None: ...
    def held_locks(self) -> dict[str, str]: ...


class MembershipStore(Protocol):
    """The membership cache (holds email addresses: personal data, not the journal)."""

    def load(self, account: str, list_id: str) -> CachedMembership | None: ...
    def exists(self, account: str, list_id: str) -> bool: ...
    def load_columns(self, account: str, list_id: str) -> MemberColumns | None: ...
    def save(self, account: str, list_id: str, rows: Iterable[MemberRow]) -> None: ...
    def save_columns(self, account: str, list_id: str, snapshot: MemberSnapshot) -> None: ...
    def update(
        self,
        account: str,
        list_id: str,
        added: Iterable[MemberRow],
        removed_profile_ids: Iterable[str],
        *,
        without_email: int = 0,
        as_of: dt.datetime | None = None,
    ) -> None: ...
    def drop(self, account: str, list_id: str) -> None: ...


class JobLedger(Protocol):
    """Import jobs submitted and not yet seen finished (waited for by the next plan)."""

    def record(self, account: str, list_id: str, job_ids: Sequence[str], run_id: str) -> None: ...
    def pending(self, account: str, list_id: str) -> list[str]: ...
    def finish(self, job_ids: Sequence[str]) -> None: ...


@runtime_checkable
class StateBackend(Protocol):
    """The journal, the list locks, the membership cache and the pending import jobs."""

    @property
    def journal(self) -> RunJournal: ...
    @property
    def locks(self) -> ListLocks: ...
    @property
    def cache(self) -> MembershipStore: ...
    @property
    def jobs(self) -> JobLedger: ...

    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
