"""Which exports a run covers: ``--export`` names, enabled ones, and ``--due`` schedules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reconciler.audit.schedule import ScheduleError, due_status
from reconciler.engine.options import RunOptions
from reconciler.errors import ReconcilerError
from reconciler.models import Config, Export
from reconciler.state import StateBackend


class UnknownExport(ReconcilerError):
    """``--export NAME`` names no export of the configuration."""


@dataclass
class Selection:
    """The exports a run covers; with ``--due`` also those it skips (and when each is next
    due) and those whose schedule cannot be evaluated (blocked alone, with the reason)."""

    exports: list[Export] = field(default_factory=list)
    not_due: dict[str, dt.datetime | None] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)


def select_exports(config: Config, options: RunOptions, state: StateBackend) -> list[Export]:
    """The enabled exports named by ``--export`` (all when none), filtered by ``--due``."""
    return selection(config, options, state).exports


def selection(config: Config, options: RunOptions, state: StateBackend) -> Selection:
    """See :class:`Selection`: an export with a broken schedule stays in ``exports`` (to be
    reported blocked) and is named in ``broken``; the other exports are not held back by it."""
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
        return Selection(exports=chosen)
    now = dt.datetime.now(dt.UTC)
    result = Selection()
    for export in chosen:
        last = state.journal.last_run_of(export.name)
        try:
            due, next_due = due_status(export, last.started_at if last else None, now)
        except ScheduleError as exc:
            result.exports.append(export)
            result.broken[export.name] = f"{exc} ({exc.hint})"
            continue
        if due:
            result.exports.append(export)
        else:
            result.not_due[export.name] = next_due
    return result
