"""Reads a list's current membership, incrementally from the state cache when it can.

The cache (email, profile id, joined_at as of the last read) is an optimisation only: the next
read asks Klaviyo only for members who joined since, and checks the list's ``profile_count``;
any mismatch (a removal made outside the reconciler, a lost cache) falls back to a full read.
Each read also notices who left the list outside the reconciler (``engine.departures``): the
cached members missing from a full read, and the reconciler's own imports missing from any.
The members are held as Arrow columns (:class:`MemberTable`), never as a million Python strings:
a full read arrives as columns and is cached from them.

Members without an email (SMS-only profiles) are not in the table, but ``profile_count``
counts them: the cache records how many the list had, and each read adds those who joined since
(their join times advance ``as_of`` like anyone's, so none is counted twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable

from reconciler.chunkstream import in_memory
from reconciler.engine.departures import left_since, note_departures
from reconciler.engine.destination import Destination
from reconciler.engine.progress import NoProgress, Progress
from reconciler.plan.builder import ListState
from reconciler.plan.members import EMAIL, PROFILE_ID, MemberTable
from reconciler.state import MemberSnapshot, StateBackend
from reconciler.state.columnar import release_unused
from reconciler.values import EPOCH, ListMembers


async def read_list_state(
    destination: Destination,
    state: StateBackend,
    account: str,
    list_id: str,
    *,
    refresh: bool,
    after: Awaitable[object] | None = None,
    progress: Progress | None = None,
) -> ListState:
    """The list's members (email -> profile id), and whether the read was incremental.

    With ``after`` (the segment read, running in a thread), a full read starts only once it is
    done: the two never hold their peak memory at the same time (a full read waits a few
    seconds of the minutes it takes). A cached list is loaded at once: its columns stay in the
    state, so loading it holds nothing of its size. A full read reports its pages to
    ``progress`` (task ``reading list ID``, out of the list's profile count).
    """
    info = await destination.list_info(list_id, with_count=True)
    cached = None
    if state.cache.exists(account, list_id):
        # stored: loading holds nothing of the list's size, so it goes on beside the segment
        cached = state.cache.load_columns(account, list_id, stored=True)
    # the members the reconciler knew: who is missing from the read left outside it
    previous = cached.emails if cached is not None else None
    if refresh:
        cached = None
    if cached is not None and cached.as_of is not None:
        newer = await destination.read_members(list_id, joined_after=cached.as_of)
        current = cached.with_added(_pairs(newer))
        without_email = cached.without_email + newer.without_email
        del cached
        if info.profile_count is not None and current.count + without_email == info.profile_count:
            if newer.total:
                state.cache.update(
                    account,
                    list_id,
                    added=_rows(newer),
                    removed_profile_ids=(),
                    without_email=newer.without_email,
                    as_of=_moment(newer.newest_us),
                    compact=False,  # the snapshot holds the ids the plan reads
                )
            table = MemberTable(current.emails, current.profile_ids)
            departed = note_departures(state, account, list_id, table.emails, [])
            return ListState(
                account, list_id, info.name, table, incremental=True, departed=departed
            )
        del current
    if after is not None:
        await after
    progress = progress or NoProgress()
    task = f"reading list {list_id}"
    progress.start(task, info.profile_count or 0)
    full = await destination.read_members(
        list_id, on_page=lambda count: progress.advance(task, count)
    )
    left = left_since(previous, full.emails) if previous is not None else []
    del previous  # read before the snapshot that holds it is replaced
    state.cache.save_columns(
        account,
        list_id,
        MemberSnapshot(
            full.emails,
            full.profile_ids,
            full.joined_us,
            full.without_email,
            full.newest_without_email_us,
        ),
    )
    # The emails and the ids stay in the snapshot just written, and the read's own columns
    # go: the departures and then the plan read them again, a chunk at a time (the match with
    # the segment, the members it removes, the list's fingerprint).
    emails = state.cache.stored_column(account, list_id, EMAIL)
    ids = state.cache.stored_column(account, list_id, PROFILE_ID)
    if emails is not None and ids is not None:
        table = MemberTable(emails, ids)
    else:  # not readable back (never expected): held as read
        table = MemberTable(full.emails, full.profile_ids)
    del full, emails, ids
    release_unused()
    departed = note_departures(state, account, list_id, table.emails, left)
    return ListState(account, list_id, info.name, table, incremental=False, departed=departed)


def _pairs(members: ListMembers) -> list[tuple[str, str]]:
    emails: list[str] = members.emails.to_pylist()
    ids: list[str] = in_memory(members.profile_ids).to_pylist()
    return list(zip(emails, ids, strict=True))


def _rows(members: ListMembers) -> list[tuple[str, str, dt.datetime]]:
    moments: list[int] = members.joined_us.to_pylist()
    return [
        (e, p, EPOCH + dt.timedelta(microseconds=t))
        for (e, p), t in zip(_pairs(members), moments, strict=True)
    ]


def _moment(micros: int | None) -> dt.datetime | None:
    return None if micros is None else EPOCH + dt.timedelta(microseconds=micros)
