"""Stage ``import``: submit the import jobs adding the plan's profiles, slice by slice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from reconciler.engine.stages.context import ADD_TASK, UPDATE_TASK, StageContext, slices
from reconciler.plan.model import ExportPlan
from reconciler.values import ImportSubmission, ProfileInput

_NO_FIELDS: Mapping[str, object] = MappingProxyType({})


Kind = Literal["add", "update"]


def profiles_for(
    plan: ExportPlan, emails: Sequence[str] | None = None, kind: Kind = "add"
) -> list[ProfileInput]:
    """The profiles to import (``emails``: those of the plan's additions, or of its updates;
    None: all of them), each with the fields the export maps besides the email."""
    get = (plan.add_fields if kind == "add" else plan.update_fields).get
    out = []
    for email in (plan.add if kind == "add" else plan.update) if emails is None else emails:
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
        emails_of_kind = plan.add if self.kind == "add" else plan.update

        def record(submitted: ImportSubmission) -> None:
            ctx.state.jobs.record(plan.account, plan.list_id, submitted.job_ids, ctx.run_id)
            outcome.job_ids += submitted.job_ids
            if self.kind == "add":
                ctx.add_jobs += submitted.job_ids
                ctx.rejected.extend(submitted.rejected)
            else:
                ctx.update_jobs += submitted.job_ids
                ctx.update_rejected.extend(submitted.rejected)

        ctx.progress.start(ctx.task(_label(self.kind)), len(emails_of_kind))
        in_flight: list[asyncio.Task[ImportSubmission]] = []
        try:
            for emails in slices(emails_of_kind, ctx.slicing.add_size(ctx.destination.facts)):
                if ctx.stop.requested:
                    break
                part = profiles_for(plan, emails, self.kind)
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
