"""State: the run journal, list locks, the membership cache and pending bulk jobs.

SQLite (``.reconciler/state.db``) by default, PostgreSQL with a ``postgresql://`` URL; both
behind the one :class:`StateBackend` interface returned by :func:`open_state`, which exposes
four roles: ``journal``, ``locks``, ``cache`` and ``jobs``.
"""

from reconciler.state.backend import SqlStateBackend
from reconciler.state.columnar import MemberColumns, MemberSnapshot
from reconciler.state.opening import open_state
from reconciler.state.protocol import (
    DepartureLedger,
    JobLedger,
    ListLocks,
    MemberRow,
    MembershipStore,
    RunJournal,
    StateBackend,
)
from reconciler.state.records import (
    RUN_OUTCOMES,
    CachedMembership,
    ExportRecord,
    RunRecord,
    RunStart,
)
from reconciler.state.redact import redact

__all__ = [
    "RUN_OUTCOMES",
    "CachedMembership",
    "DepartureLedger",
    "ExportRecord",
    "JobLedger",
    "ListLocks",
    "MemberColumns",
    "MemberRow",
    "MemberSnapshot",
    "MembershipStore",
    "RunJournal",
    "RunRecord",
    "RunStart",
    "SqlStateBackend",
    "StateBackend",
    "open_state",
    "redact",
]
