"""Stage ``subscribe``: subscribe the plan's consenting profiles, slice by slice.

It runs after the imports are done, so the profiles exist with their fields. The plan has
already left out every profile whose unsubscribe or suppression is newer than its consent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from reconciler.engine.stages.context import StageContext, slices
from reconciler.plan.model import ExportPlan
from reconciler.values import Channel, Subscription


def subscriptions_for(plan: ExportPlan, emails: list[str]) -> list[Subscription]:
    """The plan's subscriptions of ``emails``: channels, phone number, consent moment."""
    out = []
    for email in emails:
        moment = plan.subscribe_consented_at.get(email)
        channels = cast(tuple[Channel, ...], plan.subscribe_channels.get(email, ("email",)))
        out.append(
            Subscription(
                email=email,
                channels=channels,
                phone_number=plan.subscribe_phones.get(email),
                consented_at=dt.datetime.fromisoformat(moment) if moment else None,
            )
        )
    return out


@dataclass
class SubscribeProfiles:
    """Records ``subscribed``. Profiles whose import failed are not subscribed."""

    name: str = "subscribe"

    async def run(self, ctx: StageContext) -> None:
        plan, progress = ctx.plan, ctx.progress
        wanted = [e for e in plan.subscribe if e not in ctx.failed_emails]
        task = f"{plan.name}: {self.name}"
        progress.start(task, len(wanted))
        size = ctx.destination.facts.slice_calls * ctx.destination.facts.subscribe_size
        for part in slices(wanted, size):
            if ctx.stop.requested:
                return
            sent = await ctx.destination.subscribe(
                plan.list_id, subscriptions_for(plan, list(part)), historical=plan.historical_import
            )
            ctx.outcome.subscribed += sent
            ctx.subscribed.extend(part)
            progress.advance(task, sent)
