"""Executes one export's plan: removals by profile id, additions by bulk import jobs."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from reconciler.emails import mask_email
from reconciler.engine.progress import Progress
from reconciler.errors import ReconcilerError
from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.errors import KlaviyoError
from reconciler.klaviyo.models import ProfileInput
from reconciler.plan.model import ExportPlan
from reconciler.state import ExportRecord, StateBackend

FAILURE_SAMPLES = 10


@dataclass
class ExportOutcome:
    """What applying one export did."""

    name: str
    list_id: str
    added: int = 0
    removed: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    job_ids: tuple[str, ...] = ()
    seconds: float = 0.0
    outcome: str = "succeeded"
    error: str | None = None


def profiles_for(plan: ExportPlan) -> list[ProfileInput]:
    """The profiles to import, each with the fields the export maps besides the email."""
    out = []
    for email in plan.add:
        fields = dict(plan.add_fields.get(email, {}))
        properties = fields.pop("properties", {})
        out.append(
            ProfileInput(
                email=email,
                attributes=fields,
                properties=properties if isinstance(properties, dict) else {},
            )
        )
    return out


async def execute_export(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    run_id: str,
    progress: Progress,
) -> ExportOutcome:
    """Apply ``plan``; failures are counted and reported, never raised past this export."""
    outcome = ExportOutcome(name=plan.name, list_id=plan.list_id)
    started = time.monotonic()
    try:
        await _remove(client, plan, state, progress, outcome)
        await _add(client, plan, state, run_id, progress, outcome)
    except (KlaviyoError, ReconcilerError) as exc:
        outcome.error = str(exc)
        outcome.outcome = "failed"
    else:
        if outcome.failed:
            outcome.outcome = "partial"
    outcome.seconds = time.monotonic() - started
    return outcome


async def _remove(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    progress: Progress,
    outcome: ExportOutcome,
) -> None:
    if not plan.remove_ids:
        return
    task = f"{plan.name}: remove"
    progress.start(task, len(plan.remove_ids))
    outcome.removed = await client.remove_members(
        plan.list_id, plan.remove_ids, on_chunk=lambda n: progress.advance(task, n)
    )
    state.update_membership(
        plan.account, plan.list_id, added=(), removed_profile_ids=plan.remove_ids
    )


async def _add(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    run_id: str,
    progress: Progress,
    outcome: ExportOutcome,
) -> None:
    if not plan.add:
        return
    task = f"{plan.name}: add"
    progress.start(task, len(plan.add))
    submitted = await client.bulk_import(plan.list_id, profiles_for(plan))
    outcome.job_ids = tuple(submitted.job_ids)
    state.record_jobs(plan.account, plan.list_id, outcome.job_ids, run_id)
    rejected = list(submitted.rejected)
    seen: dict[str, int] = {}

    def on_progress(status: object) -> None:
        job_id = getattr(status, "job_id", "")
        done = int(getattr(status, "completed", 0)) + int(getattr(status, "failed", 0))
        progress.advance(task, max(0, done - seen.get(job_id, 0)))
        seen[job_id] = done

    results = await client.wait_for_jobs(outcome.job_ids, on_progress=on_progress)
    state.finish_jobs(outcome.job_ids)
    failures = [f for r in results for f in r.errors] + rejected
    outcome.failed = sum(r.failed for r in results) + len(rejected)
    outcome.added = sum(r.completed for r in results)
    outcome.failures = [f"{mask_email(f.email)}: {f.reason}" for f in failures[:FAILURE_SAMPLES]]
    bad_jobs = [r.job_id for r in results if r.status != "complete"]
    if bad_jobs:
        outcome.error = f"bulk import job(s) ended without completing: {', '.join(bad_jobs)}"
        outcome.outcome = "failed"


def record_for(plan: ExportPlan, outcome: ExportOutcome, started: dt.datetime) -> ExportRecord:
    """The journal entry for one export (counts and ids, never an address)."""
    return ExportRecord(
        export=plan.name,
        list_id=plan.list_id,
        connection=plan.connection,
        added=outcome.added,
        removed=outcome.removed,
        failed=outcome.failed,
        job_ids=outcome.job_ids,
        guards_forced=tuple(plan.forced_guards),
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        outcome=outcome.outcome,
        error=outcome.error,
    )
