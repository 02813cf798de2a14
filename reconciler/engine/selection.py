"""Which exports a run covers: ``--export`` names, enabled ones, and ``--due`` schedules."""

from __future__ import annotations

import datetime as dt

from reconciler.audit.schedule import is_due
from reconciler.engine.options import RunOptions
from reconciler.errors import ReconcilerError
from reconciler.models import Config, Export
from reconciler.state import StateBackend


class UnknownExport(ReconcilerError):
    """``--export NAME`` names no export of the configuration."""


def select_exports(config: Config, options: RunOptions, state: StateBackend) -> list[Export]:
    """The enabled exports named by ``--export`` (all when none), filtered by ``--due``."""
    unknown = sorted(set(options.exports) - set(config.exports))
    if unknown:
        known = ", ".join(sorted(config.exports)) or "none"
        raise UnknownExport(f"unknown export(s): {', '.join(unknown)} (known: {known})")
    chosen = [
        e
        for name, e in sorted(config.exports.items())
        if e.enabled and (not options.exports or name in options.exports)
    ]
    if not options.due_only:
        return chosen
    now = dt.datetime.now(dt.UTC)
    due = []
    for export in chosen:
        last = state.journal.last_run_of(export.name)
        if is_due(export, last.started_at if last else None, now):
            due.append(export)
    return due
