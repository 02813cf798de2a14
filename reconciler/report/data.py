"""What the report shows, gathered from the config, the run journal, git and Klaviyo."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from reconciler.audit import audit
from reconciler.audit.report import AuditReport
from reconciler.audit.schedule import is_due, next_fire
from reconciler.config import load_config
from reconciler.emails import mask_email
from reconciler.engine.connections import open_connections
from reconciler.engine.options import RunOptions
from reconciler.errors import ReconcilerError
from reconciler.models import Config, Export
from reconciler.state import StateBackend
from reconciler.state.records import RunRecord

MAX_RUNS = 50


@dataclass(frozen=True)
class RunPoint:
    """One run of an export: when, what it did, and the list's size after it (estimated)."""

    run_id: str
    started_at: dt.datetime
    outcome: str
    actor: str
    added: int
    removed: int
    size_after: int | None = None


@dataclass(frozen=True)
class ExportCard:
    name: str
    list_id: str
    connection: str
    mode: str
    enabled: bool
    status: str
    list_size: int | None
    next_due: str
    consent: str
    enabled_by: str
    runs: tuple[RunPoint, ...] = ()

    @property
    def last_run(self) -> RunPoint | None:
        return self.runs[-1] if self.runs else None


@dataclass(frozen=True)
class Dashboard:
    generated_at: dt.datetime
    config_dir: str
    exports: tuple[ExportCard, ...]
    audit: AuditReport | None
    notes: list[str] = field(default_factory=list)


def build_dashboard(
    options: RunOptions, state: StateBackend, *, live: bool = True, now: dt.datetime | None = None
) -> Dashboard:
    """Every export of ``options.config_dir`` with its runs; list sizes from Klaviyo if ``live``."""
    moment = now or dt.datetime.now(dt.UTC)
    config = load_config(options.config_dir)
    notes: list[str] = []
    sizes: dict[str, int] = {}
    if live:
        sizes, problems = asyncio.run(_live_sizes(config, options))
        notes += problems
    else:
        notes.append("list sizes were not read from Klaviyo (--offline)")
    report, problem = _audit(options, state)
    if problem:
        notes.append(problem)
    entries = {e.name: e.data for e in report.entries if e.kind == "Export"} if report else {}
    cards = tuple(
        _card(
            config,
            export,
            state.journal.list_runs(export=export.name, limit=MAX_RUNS),
            sizes.get(export.name),
            entries.get(export.name, {}),
            moment,
        )
        for export in sorted(config.exports.values(), key=lambda e: e.name)
    )
    return Dashboard(moment, str(options.config_dir), cards, report, notes)


def _audit(options: RunOptions, state: StateBackend) -> tuple[AuditReport | None, str | None]:
    try:
        return audit(options.config_dir, journal=state.journal, max_runs=1), None
    except ReconcilerError as exc:
        return None, f"audit trail not available: {exc}"


async def _live_sizes(config: Config, options: RunOptions) -> tuple[dict[str, int], list[str]]:
    sizes: dict[str, int] = {}
    problems: list[str] = []
    exports = [e for e in config.exports.values()]
    used = {e.connection: config.connections[e.connection] for e in exports}
    async with AsyncExitStack() as stack:
        opened = await open_connections(used, options, stack)
        for export in sorted(exports, key=lambda e: e.name):
            conn = opened[export.connection]
            if conn.destination is None:
                problems.append(f"list size of {export.name} unknown: {conn.error}")
                continue
            try:
                found = await conn.destination.list_info(export.list_id, with_count=True)
            except ReconcilerError as exc:
                problems.append(f"list size of {export.name} unknown: {exc}")
                continue
            if found.profile_count is not None:
                sizes[export.name] = found.profile_count
    return sizes, problems


def _card(
    config: Config,
    export: Export,
    records: Sequence[RunRecord],
    size: int | None,
    audited: dict[str, Any],
    now: dt.datetime,
) -> ExportCard:
    runs = _points(export, records, size)
    return ExportCard(
        name=export.name,
        list_id=export.list_id,
        connection=export.connection,
        mode=export.mode,
        enabled=export.enabled,
        status=(runs[-1].outcome if runs else "never run") if export.enabled else "disabled",
        list_size=size,
        next_due=_next_due(export, records, now),
        consent=_consent(config, export),
        enabled_by=_enabled_by(audited),
        runs=runs,
    )


def _points(export: Export, records: Sequence[RunRecord], size: int | None) -> tuple[RunPoint, ...]:
    """Chronological runs; sizes counted back from today's size with each run's changes."""
    points: list[RunPoint] = []
    after = size
    for run in records:  # newest first
        for record in (e for e in run.exports if e.export == export.name):
            points.append(
                RunPoint(
                    run.run_id,
                    run.started_at,
                    record.outcome,
                    run.actor,
                    record.added,
                    record.removed,
                    after,
                )
            )
            if after is not None:
                after = max(after - record.added + record.removed, 0)
    return tuple(reversed(points))


def _next_due(export: Export, records: Sequence[RunRecord], now: dt.datetime) -> str:
    if not export.enabled:
        return "never (disabled)"
    if export.schedule is None:
        return "every apply (no schedule)"
    last = next(
        (
            r.started_at
            for r in records
            if any(e.export == export.name and e.outcome == "succeeded" for e in r.exports)
        ),
        None,
    )
    try:
        if is_due(export, last, now):
            return "due now"
        fire = next_fire(export, last or now)
    except ReconcilerError as exc:
        return str(exc)
    return fire.strftime("%Y-%m-%d %H:%M UTC") if fire else "-"


def _consent(config: Config, export: Export) -> str:
    consent = config.connections[export.connection].consent
    if consent is None or not consent.accepted:
        return "not accepted"
    who = _who(consent.accepted_by, None) if consent.accepted_by else "someone unnamed"
    when = f" on {consent.accepted_at.isoformat()}" if consent.accepted_at else ""
    return f"accepted by {who}{when}"


def _enabled_by(audited: dict[str, Any]) -> str:
    """Who enabled the export (name and masked address) and when, from its audit entry."""
    by = audited.get("enabled_by")
    if not audited.get("enabled") or not by:
        return "-"
    at = str(audited.get("enabled_at") or "")[:10]
    return _who(by, _author_of(audited, audited.get("enabled_commit"))) + (
        f" on {at}" if at else ""
    )


def _author_of(audited: dict[str, Any], commit: object) -> object:
    """The author name of ``commit``: the creation's, or a later change's."""
    if commit == audited.get("created_commit"):
        return audited.get("created_by_name")
    names = (c.get("author_name") for c in audited.get("changes", []) if c.get("commit") == commit)
    return next(names, None)


def _who(email: object, name: object) -> str:
    """A person without their full address: ``Jane Doe (j***@contoso.com)``."""
    masked = mask_email(email) if isinstance(email, str) and "@" in email else str(email or "")
    return f"{name} ({masked})" if name else masked
