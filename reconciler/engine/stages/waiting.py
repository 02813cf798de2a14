"""Stage ``wait``: wait for the submitted import jobs (interruptible) and count them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.emails import mask_email
from reconciler.engine.progress import Progress
from reconciler.engine.stages.context import ADD_TASK, ExportOutcome, StageContext
from reconciler.outcomes import Outcome
from reconciler.values import ImportFailure, JobResult, JobStatus

FAILURE_SAMPLES = 10


@dataclass
class WaitForImports:
    """Records ``added``, ``failed`` and masked failure samples; the jobs stop being pending.
    A stop while waiting leaves the unfinished jobs pending in the state."""

    name: str = "wait"

    async def run(self, ctx: StageContext) -> None:
        outcome = ctx.outcome
        if not outcome.job_ids and not ctx.rejected:
            return
        waiting = ctx.destination.wait(outcome.job_ids, _advancer(ctx.task(ADD_TASK), ctx.progress))
        results = await ctx.stop.race(waiting)
        if results is None:
            return
        ctx.state.jobs.finish(outcome.job_ids)
        outcome.pending_jobs = ()
        _count(outcome, results, ctx.rejected)


def _advancer(task: str, progress: Progress) -> Callable[[JobStatus], None]:
    seen: dict[str, int] = {}

    def on_progress(status: JobStatus) -> None:
        done = status.completed + status.failed
        progress.advance(task, max(0, done - seen.get(status.job_id, 0)))
        seen[status.job_id] = done

    return on_progress


def _count(outcome: ExportOutcome, results: list[JobResult], rejected: list[ImportFailure]) -> None:
    failures = [f for r in results for f in r.errors] + rejected
    outcome.failed = sum(r.failed for r in results) + len(rejected)
    outcome.added = sum(r.completed for r in results)
    outcome.failures = [f"{mask_email(f.email)}: {f.reason}" for f in failures[:FAILURE_SAMPLES]]
    bad_jobs = [r.job_id for r in results if r.status != "complete"]
    if bad_jobs:
        outcome.error = f"bulk import job(s) ended without completing: {', '.join(bad_jobs)}"
        outcome.outcome = Outcome.FAILED
