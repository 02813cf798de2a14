"""``plan``: verify connections, read segments and lists, and build the frozen plan."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from contextlib import AsyncExitStack

from reconciler.config import load_config
from reconciler.engine.connections import OpenConnection, open_connections
from reconciler.engine.consent import plan_subscriptions
from reconciler.engine.destination import Destination
from reconciler.engine.gitbase import base_config
from reconciler.engine.membership import read_list_state
from reconciler.engine.options import RunOptions
from reconciler.engine.progress import Progress
from reconciler.engine.selection import select_exports
from reconciler.errors import DestinationNotFound, ReconcilerError
from reconciler.models import Config, Export
from reconciler.plan.adoption import with_adoption_note
from reconciler.plan.builder import (
    build_export_plan,
    diff_members,
    failed_export_plan,
    unlisted_export_plan,
)
from reconciler.plan.configdiff import config_changes
from reconciler.plan.digest import json_digest
from reconciler.plan.model import ExportPlan, Plan
from reconciler.plan.planfile import seal
from reconciler.sources import SegmentData, check_segment, read_segment
from reconciler.state import StateBackend
from reconciler.state.sent import SentRows
from reconciler.values import SettledJobs


async def make_plan(
    options: RunOptions, state: StateBackend, progress: Progress | None = None
) -> Plan:
    """The plan for every selected, enabled export of ``options.config_dir``."""
    config = load_config(options.config_dir)
    exports = select_exports(config, options, state)
    used = {e.connection: config.connections[e.connection] for e in exports}
    async with AsyncExitStack() as stack:
        opened = await open_connections(used, options, stack)
        return await plan_exports(config, exports, opened, options, state, progress=progress)


async def plan_exports(
    config: Config,
    exports: list[Export],
    opened: dict[str, OpenConnection],
    options: RunOptions,
    state: StateBackend,
    *,
    skip: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    credit: bool = False,
) -> Plan:
    """Plan ``exports`` over already opened connections; a failing export does not stop others.
    An export named in ``skip`` is not read: its plan fails with the reason given there.
    ``credit`` (an apply): the pending jobs of an earlier run seen finished are credited to
    the plan's exports (the apply finishes them once journalled); they stay pending else."""
    skip = skip or {}
    plans = await asyncio.gather(
        *(
            _skipped(e, skip[e.name])
            if e.name in skip
            else _plan_export(config, e, opened[e.connection], options, state, progress, credit)
            for e in exports
        )
    )
    base_ref, base = base_config(options)
    plan = Plan(
        created_at=dt.datetime.now(dt.UTC),
        config_dir=str(options.config_dir),
        exports=tuple(plans),
        config_changes=config_changes(base, config),
        base=base_ref,
        forced=options.force,
    )
    return seal(plan)


async def _skipped(export: Export, reason: str) -> ExportPlan:
    return failed_export_plan(export, reason)


def export_config_digest(config: Config, export: Export) -> str:
    """Digest of every declaration the export depends on (no secret is in any of them)."""
    segment = config.segments[export.segment]
    parts = {
        "export": export.model_dump(mode="json"),
        "connection": config.connections[export.connection].model_dump(mode="json"),
        "segment": segment.model_dump(mode="json"),
        "source": config.sources[segment.source].model_dump(mode="json"),
    }
    return json_digest(parts)


async def _plan_export(
    config: Config,
    export: Export,
    conn: OpenConnection,
    options: RunOptions,
    state: StateBackend,
    progress: Progress | None = None,
    credit: bool = False,
) -> ExportPlan:
    where = f"export '{export.name}' (list {export.list_id})"

    def start() -> asyncio.Future[SegmentData]:
        return asyncio.ensure_future(
            asyncio.to_thread(read_segment, config, export, options.config_dir)
        )

    # The segment is read in a thread while the list is read: the two overlap. Before a
    # full read of the list the segment is only checked, and read once the list is in the
    # state: a large list and a large segment are then never held at the same time.
    reading = None if await _reads_list_first(config, export, conn, options, state) else start()
    if conn.destination is None:
        reading = reading or start()
        await asyncio.gather(reading, return_exceptions=True)
        return _alongside(
            config,
            export,
            f"{(conn.error or '').rstrip('.')}; {where} not planned",
            reading,
            options,
        )
    destination = conn.destination
    try:
        try:
            settled = await settle_running_jobs(
                destination, conn.account, export.list_id, state, progress
            )
            current = await read_list_state(
                destination,
                state,
                conn.account,
                export.list_id,
                refresh=options.refresh,
                after=reading,
                progress=progress,
            )
        except BaseException:
            reading = reading or start()
            await asyncio.gather(reading, return_exceptions=True)  # no thread left behind
            raise
        reading = reading or start()
        # The list's fingerprint is made here while the segment is still read in its thread
        # (one pass over the list, in the state or in memory), not after.
        digest = current.members.digest()
        segment = await reading
        # The list's members are matched with the segment and let go before what was last
        # sent is loaded: the two (each about the size of the list) never peak together.
        diff = diff_members(export, segment, current, digest=digest)
        del current
        sent = _sent(state, conn.account, export, segment)
        decisions = await plan_subscriptions(export, segment, sent, destination)
    except DestinationNotFound:
        assert reading is not None  # started before any error leaves the read above
        await asyncio.gather(reading, return_exceptions=True)
        message = (
            f"list {export.list_id} does not exist in the account of connection "
            f"'{export.connection}'; check list_id of {where}"
        )
        return _alongside(config, export, message, reading, options)
    except ReconcilerError as exc:
        assert reading is not None
        await asyncio.gather(reading, return_exceptions=True)  # the fingerprint may fail first
        if reading.done() and reading.exception() is exc:
            return failed_export_plan(export, f"{where}: {exc}")  # the segment's own problem
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        return _alongside(config, export, f"{where}: {exc}{hint}", reading, options)
    plan = build_export_plan(
        export,
        config.connections[export.connection],
        segment,
        diff,
        config_digest=export_config_digest(config, export),
        facts=destination.facts,
        force=options.force,
        sent=sent,
        decisions=decisions,
        readded=_readded(state, conn.account, export.list_id, diff.departed),
        readd_departed=options.readd_departed,
    )
    return with_adoption_note(_with_settled(plan, settled, credit), state.journal)


async def _reads_list_first(
    config: Config, export: Export, conn: OpenConnection, options: RunOptions, state: StateBackend
) -> bool:
    """Whether the list is read whole before the segment (no cached membership, or
    ``--refresh``), once the segment's source opens and has the columns the export maps (a
    problem with it shows at once, not after the list's read; the read then reports it)."""
    if conn.destination is None:
        return False
    if not options.refresh and state.cache.exists(conn.account, export.list_id):
        return False
    try:
        await asyncio.to_thread(check_segment, config, export, options.config_dir)
    except ReconcilerError:
        return False
    return True


def _with_settled(plan: ExportPlan, settled: SettledJobs, credit: bool) -> ExportPlan:
    """The plan with notes on the jobs an earlier run left pending, and (``credit``) their
    imports, credited to this apply (the run that saw them finish journals them)."""
    notes = list(plan.notes)
    if settled.gone:
        notes.append(gone_note(settled.gone))
    if settled.credited:
        notes.append(credited_note(settled.credited, settled.completed))
    update: dict[str, object] = {"notes": tuple(notes)}
    if credit:
        update.update(credited=settled.completed, credited_jobs=settled.credited)
    return plan.model_copy(update=update)


def _sent(
    state: StateBackend, account: str, export: Export, segment: SegmentData
) -> SentRows | None:
    """What was last sent to the list's members, when the export needs it (read a piece at
    a time by the plan)."""
    if not segment.field_digests and export.subscribe is None:
        return None
    return state.sent.rows(account, export.list_id)


def _alongside(
    config: Config,
    export: Export,
    message: str,
    reading: asyncio.Future[SegmentData],
    options: RunOptions,
) -> ExportPlan:
    """A destination problem (``message``) reported with everything the finished segment read
    shows without the destination: its own error, or its counts and list-free guards."""
    found = reading.exception()
    if found is None:
        connection = config.connections[export.connection]
        segment = reading.result()
        return unlisted_export_plan(export, connection, message, segment, force=options.force)
    if isinstance(found, ReconcilerError):
        message += f"; export '{export.name}': {found}"
    return failed_export_plan(export, message)


async def settle_running_jobs(
    destination: Destination,
    account: str,
    list_id: str,
    state: StateBackend,
    progress: Progress | None = None,
) -> SettledJobs:
    """Wait for import jobs still running on the list (from an earlier run or elsewhere):
    their members show in the list only once complete, so planning before would add them twice.
    Pending jobs the destination no longer knows (expired, ``gone``) are dropped from the state
    like finished ones (what they did shows in the list read that follows); ``credited`` and
    ``completed``: the pending ones that finished and the profiles they imported. Those stay
    pending until an apply journals them (credited to its export, then finished)."""
    pending = state.jobs.pending(account, list_id)
    if pending and progress is not None:
        progress.note(
            f"waiting for {len(pending)} import job(s) an earlier run left on list {list_id}"
        )
    settled = await destination.settle_jobs(list_id, pending)
    kept = frozenset(settled.credited)
    done = [job for job in settled.finished if job not in kept]
    if done:
        state.jobs.finish(done)
    return settled


def _readded(
    state: StateBackend, account: str, list_id: str, departed: frozenset[str]
) -> frozenset[str]:
    """The departed who were re-added once before (``external_removals: readd``)."""
    return (
        frozenset(state.departures.readded(account, list_id)) & departed
        if departed
        else frozenset()
    )


def _shown(job_ids: tuple[str, ...]) -> str:
    return ", ".join(job_ids[:5]) + (f" (+{len(job_ids) - 5} more)" if len(job_ids) > 5 else "")


def credited_note(job_ids: tuple[str, ...], completed: int) -> str:
    return (
        f"{len(job_ids)} import job(s) an earlier run left pending finished, {completed:,} "
        f"profile(s) imported: {_shown(job_ids)}; the apply journals them as added"
    )


def gone_note(job_ids: tuple[str, ...]) -> str:
    shown = _shown(job_ids)
    return (
        f"{len(job_ids)} pending import job(s) no longer known to the destination (expired): "
        f"{shown}; dropped from the state, the list as read now shows what they did"
    )
