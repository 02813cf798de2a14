"""Executes one export's plan: the stages built from it, one after another, by one loop."""

from __future__ import annotations

import datetime as dt
import time

from reconciler.engine.destination import Destination
from reconciler.engine.progress import Progress
from reconciler.engine.stages import (
    DEFAULT_SLICING,
    ExportOutcome,
    Slicing,
    StageContext,
    build_stages,
)
from reconciler.engine.stopping import StopSignal
from reconciler.errors import ReconcilerError
from reconciler.outcomes import Outcome
from reconciler.plan.model import ExportPlan
from reconciler.state import ExportRecord, StateBackend

__all__ = [
    "DEFAULT_SLICING",
    "ExportOutcome",
    "Slicing",
    "credit_settled",
    "execute_export",
    "record_for",
]


async def execute_export(
    destination: Destination,
    plan: ExportPlan,
    state: StateBackend,
    run_id: str,
    progress: Progress,
    stop: StopSignal | None = None,
    slicing: Slicing = DEFAULT_SLICING,
) -> ExportOutcome:
    """Apply ``plan`` stage by stage, slice by slice; failures are counted and reported, never
    raised past this export. After ``stop`` is requested no further slice is sent and the
    export ends ``interrupted``; import jobs already submitted stay recorded as pending."""
    outcome = ExportOutcome(name=plan.name, list_id=plan.list_id)
    stop = stop or StopSignal()
    ctx = StageContext(destination, plan, state, run_id, progress, stop, slicing, outcome)
    started = time.monotonic()
    try:
        for stage in build_stages(plan):
            await stage.run(ctx)
    except ReconcilerError as exc:
        hint = getattr(exc, "hint", "")
        outcome.error = f"{exc}; hint: {hint}" if hint else str(exc)
        # a stop ends the destination's waits with an error: the export was interrupted
        outcome.outcome = Outcome.INTERRUPTED if stop.requested else Outcome.FAILED
    else:
        if stop.requested:
            outcome.outcome = Outcome.INTERRUPTED
        elif outcome.failed and outcome.outcome == Outcome.SUCCEEDED:
            outcome.outcome = Outcome.PARTIAL
    outcome.seconds = time.monotonic() - started
    return outcome


def credit_settled(plan: ExportPlan, outcome: ExportOutcome) -> ExportOutcome:
    """The profiles of jobs an earlier run left pending, seen finished while planning, count
    as ``added`` and their ids lead ``job_ids``: the run that saw them finish credits them."""
    outcome.added += plan.credited
    outcome.job_ids = (*plan.credited_jobs, *outcome.job_ids)
    return outcome


def record_for(plan: ExportPlan, outcome: ExportOutcome, started: dt.datetime) -> ExportRecord:
    """The journal entry for one export (counts and ids, never an address)."""
    return ExportRecord(
        export=plan.name,
        list_id=plan.list_id,
        connection=plan.connection,
        added=outcome.added,
        removed=outcome.removed,
        failed=outcome.failed,
        updated=outcome.updated,
        subscribed=outcome.subscribed,
        job_ids=outcome.job_ids,
        guards_forced=tuple(plan.forced_guards),
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        outcome=outcome.outcome,
        error=outcome.error,
    )
