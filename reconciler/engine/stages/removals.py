"""Stage ``remove``: remove the plan's members by profile id, slice by slice."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.engine.stages.context import StageContext, slices


@dataclass
class RemoveMembers:
    """Records ``removed``; updates the membership cache after each slice."""

    name: str = "remove"

    async def run(self, ctx: StageContext) -> None:
        plan, progress = ctx.plan, ctx.progress
        task = ctx.task(self.name)
        progress.start(task, len(plan.remove_ids))
        for part in slices(plan.remove_ids, ctx.slicing.remove_size(ctx.destination.facts)):
            if ctx.stop.requested:
                return
            ctx.outcome.removed += await ctx.destination.remove(
                plan.list_id, part, lambda n: progress.advance(task, n)
            )
            ctx.state.cache.update(plan.account, plan.list_id, added=(), removed_profile_ids=part)
