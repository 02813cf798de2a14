"""Stage ``remove``: remove the plan's members by profile id, slice by slice."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.engine.stages.context import StageContext


@dataclass
class RemoveMembers:
    """Records ``removed``; updates the membership cache after each slice."""

    name: str = "remove"

    async def run(self, ctx: StageContext) -> None:
        plan, progress = ctx.plan, ctx.progress
        task = ctx.task(self.name)
        ids = plan.remove_ids
        progress.start(task, len(ids))
        size = ctx.slicing.remove_size(ctx.destination.facts)
        for start in range(0, len(ids), size):
            if ctx.stop.requested:
                return
            part = ids[start : start + size]  # one slice of Python strings at a time
            ctx.outcome.removed += await ctx.destination.remove(
                plan.list_id, part, lambda n: progress.advance(task, n)
            )
            ctx.state.cache.update(plan.account, plan.list_id, added=(), removed_profile_ids=part)
