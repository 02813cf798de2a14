"""Stage ``wait``: wait for the submitted import jobs (interruptible) and count them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import mask_email
from reconciler.engine.progress import Progress
from reconciler.engine.stages.context import ADD_TASK, UPDATE_TASK, ExportOutcome, StageContext
from reconciler.outcomes import Outcome
from reconciler.values import ImportFailure, JobResult, JobStatus

FAILURE_SAMPLES = 10


@dataclass
class WaitForImports:
    """Records ``added`` (``updated`` for kind "update"), ``failed`` and masked failure
    samples; the jobs stop being pending. A stop while waiting leaves the unfinished jobs
    pending in the state."""

    name: str = "wait"
    kind: Literal["add", "update"] = "add"

    async def run(self, ctx: StageContext) -> None:
        outcome = ctx.outcome
        jobs = ctx.add_jobs if self.kind == "add" else ctx.update_jobs
        rejected = ctx.rejected if self.kind == "add" else ctx.update_rejected
        if not jobs and not rejected:
            return
        label = ADD_TASK if self.kind == "add" else UPDATE_TASK
        waiting = ctx.destination.wait(jobs, _advancer(ctx.task(label), ctx.progress))
        results = await ctx.stop.race(waiting)
        if results is None:
            return
        ctx.state.jobs.finish(jobs)
        outcome.pending_jobs = tuple(j for j in outcome.pending_jobs if j not in set(jobs))
        ctx.failed_emails.update(f.email for r in results for f in r.errors)
        ctx.failed_emails.update(f.email for f in rejected)
        _count(outcome, results, rejected, self.kind)
        if self.kind == "add":
            _record_imported(ctx, results)


def _record_imported(ctx: StageContext, results: list[JobResult]) -> None:
    """The addresses the jobs added, for the next read to check they stayed (one that is
    missing then left outside the reconciler). Nothing is recorded if a job did not complete
    (which of its profiles it added cannot be known) or a stop cut the submission short."""
    if ctx.stop.requested or any(r.status != "complete" for r in results):
        return
    refused = {f.email for r in results for f in r.errors} | {f.email for f in ctx.rejected}
    plan = ctx.plan
    added = plan.add.array
    if refused:
        value_set = pa.array(sorted(refused), type=pa.string())
        added = added.filter(pc.invert(pc.is_in(added, value_set=value_set)))
    ctx.state.departures.record_imported(plan.account, plan.list_id, ctx.run_id, added)
    if plan.readd:
        readded = [e for e in plan.readd if e not in refused]
        ctx.state.departures.mark_readded(plan.account, plan.list_id, readded)


def _advancer(task: str, progress: Progress) -> Callable[[JobStatus], None]:
    seen: dict[str, int] = {}

    def on_progress(status: JobStatus) -> None:
        done = status.completed + status.failed
        progress.advance(task, max(0, done - seen.get(status.job_id, 0)))
        seen[status.job_id] = done

    return on_progress


def _count(
    outcome: ExportOutcome,
    results: list[JobResult],
    rejected: list[ImportFailure],
    kind: Literal["add", "update"] = "add",
) -> None:
    failures = [f for r in results for f in r.errors] + rejected
    outcome.failed += sum(r.failed for r in results) + len(rejected)
    if kind == "add":
        outcome.added = sum(r.completed for r in results)
    else:
        outcome.updated = sum(r.completed for r in results)
    room = FAILURE_SAMPLES - len(outcome.failures)
    outcome.failures += [f"{mask_email(f.email)}: {f.reason}" for f in failures[: max(room, 0)]]
    bad_jobs = [r.job_id for r in results if r.status != "complete"]
    if bad_jobs:
        outcome.error = f"bulk import job(s) ended without completing: {', '.join(bad_jobs)}"
        outcome.outcome = Outcome.FAILED
