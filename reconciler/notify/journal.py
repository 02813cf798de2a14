"""A RunSummary from the journal's record of a run and the plan it executed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reconciler.emails import mask_email
from reconciler.notify.events import ExportRun, RunSummary
from reconciler.plan.model import ExportPlan, Plan
from reconciler.state.records import ExportRecord, RunRecord

SAMPLES = 3


def find_run(runs: Sequence[RunRecord], run_id: str | None, since: dt.datetime) -> RunRecord | None:
    """The run ``run_id``, or (when unknown) the newest run started at ``since`` or later."""
    for run in runs:
        if run.run_id == run_id or (run_id is None and run.started_at >= since):
            return run
    return None


def summary_from(run: RunRecord, plan: Plan | None) -> RunSummary:
    planned = {e.name: e for e in plan.exports} if plan is not None else {}
    exports = tuple(_export(e, planned.get(e.export)) for e in run.exports)
    return RunSummary(
        run_id=run.run_id,
        outcome=run.outcome,
        actor=run.actor,
        commit=run.commit,
        exports=tuple(sorted(exports, key=lambda e: e.name)),
    )


def _export(record: ExportRecord, plan: ExportPlan | None) -> ExportRun:
    return ExportRun(
        name=record.export,
        list_id=record.list_id,
        outcome=record.outcome,
        added=record.added,
        removed=record.removed,
        failed=record.failed,
        list_before=plan.current if plan is not None and plan.error is None else None,
        error=record.error,
        add_samples=_samples(plan.add if plan and record.added else ()),
        remove_samples=_samples(plan.remove if plan and record.removed else ()),
    )


def _samples(emails: Sequence[str]) -> tuple[str, ...]:
    return tuple(mask_email(e) for e in emails[:SAMPLES])
