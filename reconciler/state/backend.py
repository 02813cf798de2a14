"""The state backend: journal, locks, membership cache, pending jobs and departed members over
one database."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from reconciler.state.cache import MembershipCache
from reconciler.state.database import Database
from reconciler.state.departures import Departures
from reconciler.state.jobs import PendingJobs
from reconciler.state.journal import Journal
from reconciler.state.protocol import ListLocks
from reconciler.state.sent import SentProfiles


class SqlStateBackend:
    """Implements :class:`reconciler.state.StateBackend` for SQLite and PostgreSQL alike:
    each role is its own object over the one database (the locks are the backend's kind)."""

    def __init__(self, db: Database, locks: ListLocks, *, description: str) -> None:
        self.db = db
        self.description = description
        self.journal = Journal(db)
        self.locks = locks
        self.cache = MembershipCache(db)
        self.jobs = PendingJobs(db)
        self.sent = SentProfiles(db)
        self.departures = Departures(db)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"

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
