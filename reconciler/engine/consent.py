"""The plan's consent check: read the candidates' subscriptions from the destination.

Only the candidates are read (consenting rows the reconciler has not subscribed yet), in
lookups of the destination's size; :func:`reconciler.plan.subscriptions.decide` then picks who
is subscribed and who is skipped, and why.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from reconciler.engine.destination import Destination
from reconciler.models import Export
from reconciler.plan.subscriptions import Decisions, candidates, decide
from reconciler.sources import SegmentData
from reconciler.state.sent import SentRows


async def plan_subscriptions(
    export: Export, segment: SegmentData, sent: pa.Table | SentRows | None, destination: Destination
) -> Decisions | None:
    """The subscriptions of ``export`` (None without ``subscribe:``)."""
    if export.subscribe is None:
        return None
    found = candidates(export.subscribe, segment, sent)
    if not found:
        return Decisions()
    consents = await destination.consents([c.email for c in found])
    return decide(export.subscribe, found, consents, dt.datetime.now(dt.UTC))
