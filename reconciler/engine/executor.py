"""Executes one export's plan: removals by profile id, additions by bulk import jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from reconciler.emails import mask_email
from reconciler.engine.progress import Progress
from reconciler.engine.stopping import StopSignal
from reconciler.errors import ReconcilerError
from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.bulk import ImportSubmission
from reconciler.klaviyo.chunks import MAX_PROFILES
from reconciler.klaviyo.client import MEMBER_CHUNK
from reconciler.klaviyo.errors import KlaviyoError
from reconciler.klaviyo.models import ImportFailure, JobResult, JobStatus, ProfileInput
from reconciler.plan.model import ExportPlan
from reconciler.state import ExportRecord, StateBackend

FAILURE_SAMPLES = 10
_NO_FIELDS: Mapping[str, object] = MappingProxyType({})
JOB_POLL_SECONDS = 0.5  # unscaled: the base of the client's job-poll pace (klaviyo.jobs._Pace)
T = TypeVar("T")


@dataclass(frozen=True)
class Slicing:
    """How much work one client call gets; a stop request is honoured between calls."""

    add: int = 10 * MAX_PROFILES  # profiles per bulk_import call: up to 10 import jobs
    remove: int = 10 * MEMBER_CHUNK  # profile ids per remove_members call: 10 requests

    def __post_init__(self) -> None:
        if self.add < 1 or self.remove < 1:
            raise ValueError("slice sizes must be at least 1")


DEFAULT_SLICING = Slicing()


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
    pending_jobs: tuple[str, ...] = ()
    seconds: float = 0.0
    outcome: str = "succeeded"
    error: str | None = None


def profiles_for(plan: ExportPlan, emails: Sequence[str] | None = None) -> list[ProfileInput]:
    """The profiles to import (``emails``: those of the plan's additions; None: all of them),
    each with the fields the export maps besides the email."""
    get = plan.add_fields.get
    out = []
    for email in plan.add if emails is None else emails:
        fields = get(email)
        if not fields:
            out.append(ProfileInput(email, _NO_FIELDS, _NO_FIELDS))
        elif "properties" not in fields:
            out.append(ProfileInput(email, fields, _NO_FIELDS))
        else:
            properties = fields["properties"]
            attributes = {k: v for k, v in fields.items() if k != "properties"}
            custom = properties if isinstance(properties, dict) else _NO_FIELDS
            out.append(ProfileInput(email, attributes, custom))
    return out


async def execute_export(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    run_id: str,
    progress: Progress,
    stop: StopSignal | None = None,
    slicing: Slicing = DEFAULT_SLICING,
) -> ExportOutcome:
    """Apply ``plan`` slice by slice; failures are counted and reported, never raised past this
    export. After ``stop`` is requested no further slice is sent and the export ends
    ``interrupted``; import jobs already submitted stay recorded as pending in the state."""
    outcome = ExportOutcome(name=plan.name, list_id=plan.list_id)
    stop = stop or StopSignal()
    started = time.monotonic()
    try:
        # Submit the import jobs first: Klaviyo processes them while the removals are sent.
        rejected = await _submit(client, plan, state, run_id, progress, outcome, stop, slicing.add)
        await _remove(client, plan, state, progress, outcome, stop, slicing.remove)
        await _wait(client, plan, state, progress, outcome, stop, rejected)
    except (KlaviyoError, ReconcilerError) as exc:
        outcome.error = str(exc)
        outcome.outcome = "failed"
    else:
        if stop.requested:
            outcome.outcome = "interrupted"
        elif outcome.failed and outcome.outcome == "succeeded":
            outcome.outcome = "partial"
    outcome.seconds = time.monotonic() - started
    return outcome


def slices(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _remove(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    progress: Progress,
    outcome: ExportOutcome,
    stop: StopSignal,
    size: int,
) -> None:
    if not plan.remove_ids:
        return
    task = f"{plan.name}: remove"
    progress.start(task, len(plan.remove_ids))
    for part in slices(plan.remove_ids, size):
        if stop.requested:
            return
        outcome.removed += await client.remove_members(
            plan.list_id, part, on_chunk=lambda n: progress.advance(task, n)
        )
        state.update_membership(plan.account, plan.list_id, added=(), removed_profile_ids=part)


async def _submit(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    run_id: str,
    progress: Progress,
    outcome: ExportOutcome,
    stop: StopSignal,
    size: int,
) -> list[ImportFailure]:
    """Submit the bulk import jobs slice by slice, recording each slice's jobs as pending as
    soon as they exist. The next slice is encoded while the previous one is on the wire, so
    neither side waits for the other; after a stop no further slice starts."""
    rejected: list[ImportFailure] = []
    if not plan.add or stop.requested:
        return rejected

    def record(submitted: ImportSubmission) -> None:
        job_ids = submitted.job_ids
        state.record_jobs(plan.account, plan.list_id, job_ids, run_id)
        outcome.job_ids += job_ids
        rejected.extend(submitted.rejected)

    progress.start(f"{plan.name}: add", len(plan.add))
    in_flight: list[asyncio.Task[ImportSubmission]] = []
    try:
        for emails in slices(plan.add, size):
            if stop.requested:
                break
            part = profiles_for(plan, emails)
            in_flight.append(asyncio.create_task(client.bulk_import(plan.list_id, part)))
            if len(in_flight) > 1:
                record(await in_flight.pop(0))
        while in_flight:
            record(await in_flight.pop(0))
    except Exception:
        await _settle(in_flight, record)
        raise
    except BaseException:
        for task in in_flight:
            task.cancel()
        raise
    finally:
        outcome.pending_jobs = outcome.job_ids
    return rejected


async def _settle(
    tasks: list[asyncio.Task[ImportSubmission]], record: Callable[[ImportSubmission], None]
) -> None:
    """After a failed slice: let the other one in flight finish and record its jobs."""
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, ImportSubmission):
            record(result)


async def _wait(
    client: KlaviyoClient,
    plan: ExportPlan,
    state: StateBackend,
    progress: Progress,
    outcome: ExportOutcome,
    stop: StopSignal,
    rejected: list[ImportFailure],
) -> None:
    """Wait for the submitted jobs (interruptible: unfinished ones stay pending) and count."""
    if not plan.add or (not outcome.job_ids and not rejected):
        return
    waiting = client.wait_for_jobs(
        outcome.job_ids,
        poll_interval=JOB_POLL_SECONDS,
        on_progress=_advancer(f"{plan.name}: add", progress),
    )
    results = await stop.race(waiting)
    if results is None:
        return
    state.finish_jobs(outcome.job_ids)
    outcome.pending_jobs = ()
    _count(outcome, results, rejected)


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
