"""Stage ``remember``: record in the state what was sent for each member.

The digests of the fields sent with each added or updated profile (those the destination
did not refuse), the channels each subscribed profile (or one found already subscribed) has,
and the removed members forgotten. The next plan re-sends only fields that changed since,
and does not subscribe anyone twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from reconciler.engine.stages.context import StageContext
from reconciler.plan.model import ExportPlan
from reconciler.plan.updates import sent_digests
from reconciler.state.sent import EMAIL, SUBSCRIBED


@dataclass
class RememberSent:
    """Writes the state's record of what was sent (never an address into the journal)."""

    name: str = "remember"

    async def run(self, ctx: StageContext) -> None:
        plan = ctx.plan
        table = _sent_table(plan, ctx)
        forget = pa.array(list(plan.remove), type=pa.string()) if plan.remove else None
        ctx.state.sent.record(plan.account, plan.list_id, table, forget)


def _sent_table(plan: ExportPlan, ctx: StageContext) -> pa.Table | None:
    """What this apply sent: the digests of each added or updated profile's fields (only
    after a complete apply, without those refused) and each subscribed profile's channels."""
    emails: list[str] = []
    if plan.field_keys and not ctx.stop.requested:
        emails = [e for e in (*plan.add, *plan.update) if e not in ctx.failed_emails]
    subscribed = {e: plan.subscribe_channels.get(e, ()) for e in ctx.subscribed}
    for email, channels in plan.already_subscribed.items():
        subscribed[email] = tuple(dict.fromkeys((*subscribed.get(email, ()), *channels)))
    known = set(emails)
    extra = [e for e in subscribed if e not in known]
    if not emails and not extra:
        return None
    everyone = emails + extra
    if plan.field_keys:
        fields = {**plan.add_fields, **plan.update_fields}
        table = sent_digests(emails, fields, plan.field_keys)
        if extra:  # subscribed only: their digests stay as they were
            table = pa.concat_tables([table, _blank(extra, plan.field_keys)])
    else:
        table = pa.table({EMAIL: pa.array(everyone, type=pa.string())})
    for channel in sorted({c for chans in subscribed.values() for c in chans}):
        flags = [True if channel in subscribed.get(e, ()) else None for e in everyone]
        table = table.append_column(SUBSCRIBED + channel, pa.array(flags, type=pa.bool_()))
    return table


def _blank(emails: list[str], keys: tuple[str, ...]) -> pa.Table:
    columns = {EMAIL: pa.array(emails, type=pa.string())}
    columns |= {key: pa.nulls(len(emails), pa.uint64()) for key in keys}
    return pa.table(columns)
