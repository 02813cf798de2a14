"""Stage ``remember``: record in the state what was sent for each member.

The digests of the fields sent with each added or updated profile (those the destination
did not refuse), the channels each subscribed profile (or one found already subscribed) has,
and the removed members forgotten. The next plan re-sends only fields that changed since,
and does not subscribe anyone twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.engine.stages.context import StageContext
from reconciler.plan.model import ExportPlan
from reconciler.state.sent import EMAIL, SUBSCRIBED


@dataclass
class RememberSent:
    """Writes the state's record of what was sent (never an address into the journal)."""

    name: str = "remember"

    async def run(self, ctx: StageContext) -> None:
        plan = ctx.plan
        table = _sent_table(plan, ctx)
        forget = plan.remove.array if plan.remove else None
        ctx.state.sent.record(plan.account, plan.list_id, table, forget)


def _sent_table(plan: ExportPlan, ctx: StageContext) -> pa.Table | None:
    """What this apply sent: the digests of each added or updated profile's fields, taken
    from the plan's columns (only after a complete apply, without those refused), and each
    subscribed profile's channels."""
    keys = plan.field_keys
    parts: list[pa.Table] = []
    if keys and not ctx.stop.requested:
        refused = pa.array(sorted(ctx.failed_emails), type=pa.string())
        parts = [rows.digests(keys, refused) for rows in (plan.adds, plan.updates) if rows]
    subscribed = {e: plan.subscribe_channels.get(e, ()) for e in ctx.subscribed}
    for email, channels in plan.already_subscribed.items():
        subscribed[email] = tuple(dict.fromkeys((*subscribed.get(email, ()), *channels)))
    if subscribed:
        known = pa.array(list(subscribed), type=pa.string())
        for part in parts:  # the few subscribed who were also sent: their rows get the flags
            known = known.filter(pc.invert(pc.is_in(known, value_set=part[EMAIL])))
        parts.append(_blank(known.to_pylist(), keys))
    parts = [p for p in parts if p.num_rows]
    if not parts:
        return None
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if subscribed:
        table = _with_channels(table, subscribed)
    return table


def _with_channels(table: pa.Table, subscribed: dict[str, tuple[str, ...]]) -> pa.Table:
    """``table`` with a column per channel: true for the emails subscribed to it."""
    for channel in sorted({c for chans in subscribed.values() for c in chans}):
        chosen = pa.array([e for e, chans in subscribed.items() if channel in chans], pa.string())
        on = pc.is_in(table[EMAIL], value_set=chosen)
        flags = pc.if_else(on, pa.scalar(True), pa.scalar(None, pa.bool_()))
        table = table.append_column(SUBSCRIBED + channel, flags)
    return table


def _blank(emails: list[str], keys: tuple[str, ...]) -> pa.Table:
    """Subscribed only: their digests stay as they were (null)."""
    columns = {EMAIL: pa.array(emails, type=pa.string())}
    columns |= {key: pa.nulls(len(emails), pa.uint64()) for key in keys}
    return pa.table(columns)
