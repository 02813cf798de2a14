"""The values the state backend stores and returns: runs, export records, cached membership."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reconciler.jsonable import fields_json
from reconciler.outcomes import FINAL_OUTCOMES, Outcome

# Outcomes of a run or of one export within it (final ones; RUNNING marks a run in flight).
RUN_OUTCOMES = FINAL_OUTCOMES
RUNNING = Outcome.RUNNING


@dataclass(frozen=True)
class RunStart:
    """What is known when an apply starts."""

    actor: str
    commit: str | None
    plan_checksum: str | None
    command: str
    forced: bool


@dataclass(frozen=True)
class ExportRecord:
    """What one export did within a run: counts and job ids, never an email address."""

    export: str
    list_id: str
    connection: str
    added: int
    removed: int
    failed: int
    job_ids: tuple[str, ...]
    guards_forced: tuple[str, ...]
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: Outcome
    error: str | None = None
    updated: int = 0  # members whose changed fields were re-sent
    subscribed: int = 0  # profiles subscribed (consent subscriptions)

    def as_dict(self) -> dict[str, object]:
        return fields_json(self)


# the JSON order of a run (``runs --format json``): forced beside the command
_RUN_KEYS = (
    "run_id",
    "actor",
    "commit",
    "plan_checksum",
    "command",
    "forced",
    "started_at",
    "finished_at",
    "outcome",
    "exports",
)


@dataclass(frozen=True)
class RunRecord:
    """One journaled run with its export records (``finished_at`` None while in flight)."""

    run_id: str
    actor: str
    commit: str | None
    plan_checksum: str | None
    command: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: Outcome
    exports: list[ExportRecord] = field(default_factory=list)
    forced: bool = False

    def as_dict(self) -> dict[str, object]:
        return fields_json(self, _RUN_KEYS)


@dataclass(frozen=True)
class CachedMembership:
    """A list's membership as of the last read: email -> (profile id, joined_at).

    ``as_of`` is the newest ``joined_at`` seen (None for an empty list), ``count`` the number of
    members and ``saved_at`` the wall time of the last save or update.
    """

    members: dict[str, tuple[str, dt.datetime]]
    as_of: dt.datetime | None
    count: int
    saved_at: dt.datetime | None = None


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
