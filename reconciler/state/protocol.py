"""The one interface of the state backend; SQLite and PostgreSQL implement it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from reconciler.state.records import CachedMembership, ExportRecord, RunRecord, RunStart

MemberRow = tuple[str, str, dt.datetime]  # (email, profile_id, joined_at)


@runtime_checkable
class StateBackend(Protocol):
    """Journal of runs, list locks, membership cache and pending bulk jobs."""

    # journal (append-only)
    def start_run(self, run: RunStart) -> str: ...
    def record_export(self, run_id: str, record: ExportRecord) -> None: ...
    def finish_run(self, run_id: str, outcome: str) -> None: ...
    def list_runs(self, *, export: str | None = None, limit: int = 50) -> list[RunRecord]: ...
    def last_run_of(
        self, export: str, *, outcomes: Sequence[str] = ("succeeded",)
    ) -> RunRecord | None: ...

    # locks
    def lock_list(
        self, key: str, holder: str, *, timeout: float
    ) -> AbstractContextManager[None]: ...
    def force_unlock(self, key: str) -> bool: ...
    def lock_holder(self, key: str) -> str | None: ...
    def held_locks(self) -> dict[str, str]: ...

    # membership cache (holds email addresses: personal data, not the journal)
    def load_membership(self, account: str, list_id: str) -> CachedMembership | None: ...
    def save_membership(self, account: str, list_id: str, members: Iterable[MemberRow]) -> None: ...
    def update_membership(
        self,
        account: str,
        list_id: str,
        *,
        added: Iterable[MemberRow],
        removed_profile_ids: Iterable[str],
    ) -> None: ...
    def drop_membership(self, account: str, list_id: str) -> None: ...

    # pending bulk jobs
    def record_jobs(
        self, account: str, list_id: str, job_ids: Sequence[str], run_id: str
    ) -> None: ...
    def pending_jobs(self, account: str, list_id: str) -> list[str]: ...
    def finish_jobs(self, job_ids: Sequence[str]) -> None: ...

    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
