"""Stage ``import``: submit the import jobs adding the plan's profiles, slice by slice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reconciler.engine.stages.context import ADD_TASK, UPDATE_TASK, StageContext
from reconciler.plan.model import ExportPlan
from reconciler.plan.rows import MemberRows
from reconciler.values import ImportSubmission, ProfileInput

Kind = Literal["add", "update"]


def rows_of(plan: ExportPlan, kind: Kind = "add") -> MemberRows:
    """The plan's additions, or its updates."""
    return plan.adds if kind == "add" else plan.updates


def profiles_for(plan: ExportPlan, kind: Kind = "add") -> list[ProfileInput]:
    """Every profile of the plan's additions (or updates) as Python values (small plans)."""
    return rows_of(plan, kind).profiles().inputs()


@dataclass
class SubmitImports:
    """Records ``job_ids`` (pending until waited for) and the profiles rejected on the way.

    ``kind`` "add": the plan's additions; "update": the members whose mapped fields changed
    (imported the same way: the destination updates the profiles it already has).
    Each slice's jobs are recorded as pending in the state as soon as they exist. The next
    slice is encoded while the previous one is on the wire, so neither side waits for the
    other; after a stop no further slice starts."""

    name: str = "import"
    kind: Kind = "add"

    async def run(self, ctx: StageContext) -> None:
        plan, outcome = ctx.plan, ctx.outcome
        if ctx.stop.requested:
            return
        rows = rows_of(plan, self.kind)

        def record(submitted: ImportSubmission) -> None:
            ctx.state.jobs.record(plan.account, plan.list_id, submitted.job_ids, ctx.run_id)
            outcome.job_ids += submitted.job_ids
            if self.kind == "add":
                ctx.add_jobs += submitted.job_ids
                ctx.rejected.extend(submitted.rejected)
            else:
                ctx.update_jobs += submitted.job_ids
                ctx.update_rejected.extend(submitted.rejected)

        ctx.progress.start(ctx.task(_label(self.kind)), len(rows))
        in_flight: list[asyncio.Task[ImportSubmission]] = []
        size = ctx.slicing.add_size(ctx.destination.facts)
        try:
            for start in range(0, len(rows), size):
                if ctx.stop.requested:
                    break
                part = rows.profiles(start, size)  # columns: encoded a job at a time
                in_flight.append(asyncio.create_task(ctx.destination.add(plan.list_id, part)))
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


async def _settle(
    tasks: list[asyncio.Task[ImportSubmission]], record: Callable[[ImportSubmission], None]
) -> None:
    """After a failed slice: let the other one in flight finish and record its jobs."""
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, ImportSubmission):
            record(result)


def _label(kind: Kind) -> str:
    return ADD_TASK if kind == "add" else UPDATE_TASK
