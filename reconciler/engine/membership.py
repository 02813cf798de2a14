"""Reads a list's current membership, incrementally from the state cache when it can.

The cache (email, profile id, joined_at as of the last read) is an optimisation only: the next
read asks Klaviyo only for members who joined since, and checks the list's ``profile_count``;
any mismatch (a removal made outside the reconciler, a lost cache) falls back to a full read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.models import Member
from reconciler.plan.builder import ListState
from reconciler.state import StateBackend


async def read_list_state(
    client: KlaviyoClient,
    state: StateBackend,
    account: str,
    list_id: str,
    *,
    refresh: bool,
) -> ListState:
    """The list's members (email -> profile id), and whether the read was incremental."""
    info = await client.get_list(list_id, with_count=True)
    cached = None if refresh else state.load_membership(account, list_id)
    if cached is not None and cached.as_of is not None:
        newer = await client.read_members(list_id, joined_after=cached.as_of)
        members = {email: pid for email, (pid, _) in cached.members.items()}
        members.update((m.email, m.profile_id) for m in newer)
        if info.profile_count is not None and len(members) == info.profile_count:
            if newer:
                state.update_membership(
                    account, list_id, added=_rows(newer), removed_profile_ids=()
                )
            return ListState(account, list_id, info.name, members, incremental=True)
    full = await client.read_members(list_id)
    state.save_membership(account, list_id, _rows(full))
    members = {m.email: m.profile_id for m in full}
    return ListState(account, list_id, info.name, members, incremental=False)


def _rows(members: Iterable[Member]) -> list[tuple[str, str, dt.datetime]]:
    return [(m.email, m.profile_id, m.joined_at) for m in members]
