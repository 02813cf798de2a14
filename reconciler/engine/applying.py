"""``apply``: lock the lists, (re)plan, check a saved plan is still current, execute, journal."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field

from reconciler.audit.actor import resolve_actor
from reconciler.audit.git import head_commit
from reconciler.config import load_config
from reconciler.engine.connections import OpenConnection, open_connections
from reconciler.engine.executor import (
    DEFAULT_SLICING,
    ExportOutcome,
    Slicing,
    credit_settled,
    execute_export,
    record_for,
)
from reconciler.engine.liveness import alive, settle_abandoned
from reconciler.engine.lockwait import wait_for_lock
from reconciler.engine.options import RunOptions
from reconciler.engine.ordering import check_not_behind
from reconciler.engine.planning import plan_exports
from reconciler.engine.progress import NoProgress, Progress
from reconciler.engine.selection import selection
from reconciler.engine.staleness import check_current, exports_of_plan
from reconciler.engine.stopping import ApplyInterrupted, StopSignal, run_stoppable, signal_name
from reconciler.errors import LockTimeout, PlanError
from reconciler.models import Export
from reconciler.outcomes import PROBLEMS, Outcome
from reconciler.plan.model import ExportPlan, Plan
from reconciler.state import ExportRecord, RunStart, StateBackend
from reconciler.state.journal import new_run_id

Confirm = Callable[[Plan], bool]


@dataclass
class ApplyReport:
    """What an apply did: the plan it executed and one outcome per export."""

    run_id: str
    plan: Plan | None
    outcomes: list[ExportOutcome] = field(default_factory=list)
    cancelled: bool = False
    interrupted_by: int | None = None
    # apply --due: the exports it skipped, and when each is next due (None: unknown)
    not_due: dict[str, dt.datetime | None] = field(default_factory=dict)
    # runs journalled in flight whose process had died (killed): journalled interrupted now
    abandoned: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.interrupted_by is not None or any(o.outcome in PROBLEMS for o in self.outcomes)


def run_apply(
    options: RunOptions,
    state: StateBackend,
    *,
    saved: Plan | None = None,
    confirm: Confirm = lambda plan: True,
    progress: Progress | None = None,
    stop: StopSignal | None = None,
    slicing: Slicing = DEFAULT_SLICING,
) -> ApplyReport:
    """Apply ``saved`` (refusing it when stale) or a fresh plan; journal everything.

    In the main thread, once changes are being sent, the first SIGINT/SIGTERM (or
    ``stop.request()`` from elsewhere) stops the apply between batches: the run is journalled
    ``interrupted`` and ApplyInterrupted is raised (exit code 130/143). A second signal, or a
    signal before any change is sent, aborts at once (same error, same journal)."""
    actor = resolve_actor(options.actor, where=options.config_dir)
    commit = head_commit(options.config_dir)
    check_not_behind(state, commit, force=options.force, where=options.config_dir)
    command = "apply PLANFILE" if saved else ("apply --due" if options.due_only else "apply")
    run_id = new_run_id()
    report = ApplyReport(run_id=run_id, plan=None)
    stop = stop or StopSignal()
    aborted = False
    outcome = Outcome.FAILED
    # The run's own lock, held from before its start is journalled to after its end: a run
    # journalled in flight whose lock is free was killed (engine/liveness.py).
    with alive(state, run_id, f"{actor} (run {run_id[:8]})"):
        state.journal.start_run(
            RunStart(
                actor=actor,
                commit=commit,
                plan_checksum=saved.checksum if saved else None,
                command=command,
                forced=options.force or bool(saved and saved.forced),
            ),
            run_id,
        )
        try:
            report.abandoned = settle_abandoned(state)
            run = _Run(state, confirm, progress or NoProgress(), report, actor, stop, slicing)
            run_stoppable(_apply(options, saved, run), stop)
            outcome = Outcome.INTERRUPTED if stop.requested else _run_outcome(report)
        except KeyboardInterrupt:  # a signal (stopping.Interrupted) before or while planning
            outcome, aborted = Outcome.INTERRUPTED, True
            if not stop.requested:
                raise
        finally:
            state.journal.finish_run(run_id, outcome)
    if stop.signum is not None:
        report.interrupted_by = stop.signum
        message = interruption_message(report, aborted=aborted, sending=stop.sending)
        raise ApplyInterrupted(message, stop.signum)
    return report


@dataclass(frozen=True)
class _Run:
    """What one apply works with besides its options and saved plan."""

    state: StateBackend
    confirm: Confirm
    progress: Progress
    report: ApplyReport
    actor: str
    stop: StopSignal
    slicing: Slicing


def interruption_message(report: ApplyReport, *, aborted: bool, sending: bool) -> str:
    """What an interrupted apply did and left, one line per export (counts only)."""
    name = signal_name(report.interrupted_by or 0)
    if not sending:
        how = "stopped before any change was sent"
    elif aborted:
        how = "aborted at once on a second signal"
    else:
        how = "stopped before sending further batches"
    lines = [
        f"apply interrupted by {name}: {how}; run {report.run_id} is journalled as interrupted"
    ]
    for o in sorted(report.outcomes, key=lambda o: o.name):
        line = f"  {o.name} -> {o.list_id}: {o.outcome}; removed {o.removed:,}, added {o.added:,}"
        if o.pending_jobs:
            line += f"; {len(o.pending_jobs)} import job(s) still running, recorded as pending"
        lines.append(line)
    return "\n".join(lines)


def _run_outcome(report: ApplyReport) -> Outcome:
    if report.cancelled:
        return Outcome.CANCELLED
    kinds = {o.outcome for o in report.outcomes}
    if not kinds or kinds <= {Outcome.SUCCEEDED, Outcome.UNCHANGED}:
        return Outcome.SUCCEEDED
    if kinds <= {Outcome.FAILED, Outcome.BLOCKED}:
        return Outcome.FAILED
    return Outcome.PARTIAL


async def _apply(options: RunOptions, saved: Plan | None, run: _Run) -> None:
    state, report = run.state, run.report
    config = load_config(options.config_dir)
    broken: dict[str, str] = {}
    if saved is not None:
        with _journal_refusal(saved, run):
            exports = exports_of_plan(config, saved)
            _check_force(saved, options)
    else:
        chosen = selection(config, options, state)
        exports, broken = chosen.exports, chosen.broken
        report.not_due = chosen.not_due
    used = {e.connection: config.connections[e.connection] for e in exports}
    async with AsyncExitStack() as stack:
        opened = await open_connections(used, options, stack)
        with ExitStack() as locks:
            with run.stop.blocking():  # a signal interrupts the lock wait
                held = _lock_lists(exports, opened, state, locks, run, options)
            locked_out = broken | {name: error for name, error in held.items() if error}
            plan = await plan_exports(
                config,
                exports,
                opened,
                options,
                state,
                skip=locked_out,
                progress=run.progress,
                credit=True,
            )
            if saved is not None:
                with _journal_refusal(saved, run):
                    check_current(saved, plan)
            report.plan = plan
            if run.stop.requested:
                return
            if plan.has_changes and not run.confirm(plan):
                report.cancelled = True
                return
            await _execute(plan, opened, held, run)


@contextmanager
def _journal_refusal(saved: Plan, run: _Run) -> Iterator[None]:
    """A refused plan file (stale, or made with --force) is journalled with its reason: one
    ``blocked`` record per export of the plan, nothing sent."""
    try:
        yield
    except PlanError as exc:
        now = dt.datetime.now(dt.UTC)
        for ep in saved.exports:
            record = ExportRecord(
                export=ep.name,
                list_id=ep.list_id,
                connection=ep.connection,
                added=0,
                removed=0,
                failed=0,
                job_ids=(),
                guards_forced=(),
                started_at=now,
                finished_at=now,
                outcome=Outcome.BLOCKED,
                error=f"plan file refused: {exc}",
            )
            run.state.journal.record_export(run.report.run_id, record)
        raise


def _check_force(saved: Plan, options: RunOptions) -> None:
    """A plan file never grants --force by itself (it may have been edited and re-sealed):
    a plan made with --force is applied only with --force given again."""
    if saved.forced and not options.force:
        error = PlanError("the plan was made with --force; applying it needs --force as well")
        error.hint = "review the overridden guards in the plan, then run apply PLANFILE --force"
        raise error


def _lock_lists(
    exports: list[Export],
    opened: dict[str, OpenConnection],
    state: StateBackend,
    locks: ExitStack,
    run: _Run,
    options: RunOptions,
) -> dict[str, str | None]:
    """Lock each export's list; an export whose lock times out carries the error instead (and
    is not planned: its list is not read)."""
    held: dict[str, str | None] = {}
    holder = f"{run.actor} (run {run.report.run_id[:8]})"
    for export in sorted(exports, key=lambda e: e.list_id):
        conn = opened[export.connection]
        if conn.destination is None:
            held[export.name] = None
            continue
        key = f"{conn.account}/{export.list_id}"
        try:
            wait_for_lock(
                state.locks,
                key,
                holder,
                timeout=options.lock_timeout,
                into=locks,
                progress=run.progress,
            )
            held[export.name] = None
        except LockTimeout as exc:
            held[export.name] = str(exc)
    return held


async def _execute(
    plan: Plan, opened: dict[str, OpenConnection], held: dict[str, str | None], run: _Run
) -> None:
    run.stop.sending = True
    for conn in opened.values():  # a stop ends any wait at once (a Retry-After of an hour)
        if conn.destination is not None:
            conn.destination.interrupt_on(run.stop.event)

    async def one(ep: ExportPlan) -> None:
        started = dt.datetime.now(dt.UTC)
        outcome = credit_settled(ep, await _execute_one(ep, opened, held, run))
        run.report.outcomes.append(outcome)
        run.state.journal.record_export(run.report.run_id, record_for(ep, outcome, started))
        run.state.jobs.finish(ep.credited_jobs)  # journalled: credited once

    await asyncio.gather(*(one(ep) for ep in plan.exports))


async def _execute_one(
    ep: ExportPlan, opened: dict[str, OpenConnection], held: dict[str, str | None], run: _Run
) -> ExportOutcome:
    lock_error = held.get(ep.name)
    if lock_error:
        return ExportOutcome(ep.name, ep.list_id, outcome=Outcome.FAILED, error=lock_error)
    if ep.blocked:
        return ExportOutcome(
            ep.name, ep.list_id, outcome=Outcome.BLOCKED, error="; ".join(ep.reasons)
        )
    if not ep.has_changes:
        return ExportOutcome(ep.name, ep.list_id, outcome=Outcome.UNCHANGED)
    if run.stop.requested:
        return ExportOutcome(ep.name, ep.list_id, outcome=Outcome.INTERRUPTED)
    destination = opened[ep.connection].destination
    assert destination is not None
    return await execute_export(
        destination, ep, run.state, run.report.run_id, run.progress, run.stop, run.slicing
    )
