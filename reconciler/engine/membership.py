"""Reads a list's current membership, incrementally from the state cache when it can.

The cache (email, profile id, joined_at as of the last read) is an optimisation only: the next
read asks Klaviyo only for members who joined since, and checks the list's ``profile_count``;
any mismatch (a removal made outside the reconciler, a lost cache) falls back to a full read.
The members are held as Arrow columns (:class:`MemberTable`), never as a million Python strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Iterable

from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.models import Member
from reconciler.plan.builder import ListState
from reconciler.plan.members import MemberTable
from reconciler.state import StateBackend
from reconciler.state.columnar import add_rows, empty_column


async def read_list_state(
    client: KlaviyoClient,
    state: StateBackend,
    account: str,
    list_id: str,
    *,
    refresh: bool,
    after: Awaitable[object] | None = None,
) -> ListState:
    """The list's members (email -> profile id), and whether the read was incremental.

    With ``after`` (the segment read, running in a thread), a cached list is loaded only once
    it is done: the two never hold their peak memory at the same time. A full read (no
    cache) does not wait: it takes far longer than the segment read it overlaps.
    """
    info = await client.get_list(list_id, with_count=True)
    cached = None
    if not refresh and state.has_membership(account, list_id):
        if after is not None:
            await after
        cached = state.load_member_columns(account, list_id)
    if cached is not None and cached.as_of is not None:
        newer = await client.read_members(list_id, joined_after=cached.as_of)
        current = cached.with_added((m.email, m.profile_id) for m in newer)
        del cached
        if info.profile_count is not None and current.count == info.profile_count:
            if newer:
                state.update_membership(
                    account, list_id, added=_rows(newer), removed_profile_ids=()
                )
            table = MemberTable(current.emails, current.profile_ids)
            return ListState(account, list_id, info.name, table, incremental=True)
        del current
    full = await client.read_members(list_id)
    state.save_membership(account, list_id, _rows(full))
    emails, ids = add_rows(empty_column(), empty_column(), _pairs(full))
    del full
    return ListState(account, list_id, info.name, MemberTable(emails, ids), incremental=False)


def _pairs(members: Iterable[Member]) -> Iterable[tuple[str, str]]:
    return ((m.email, m.profile_id) for m in members)


def _rows(members: Iterable[Member]) -> list[tuple[str, str, dt.datetime]]:
    return [(m.email, m.profile_id, m.joined_at) for m in members]
