"""The columnar full read agrees with ``read_members``; members without an email are counted,
so a list with SMS-only members is planned incrementally after its first read."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from reconciler import spill
from reconciler.chunkstream import in_memory
from reconciler.engine.membership import read_list_state
from reconciler.klaviyo import columns
from reconciler.klaviyo.columns import MemberColumnsBuilder, unique_emails
from reconciler.klaviyo.destination import KlaviyoDestination
from reconciler.klaviyo.jsonapi import to_micros
from reconciler.sandbox.app import SandboxApp
from reconciler.spill import SpilledStrings
from reconciler.state import open_state
from reconciler.values import ListMembers
from tests.klaviyo.support import admin_call, client_for, emails, sandbox_app, seed


async def seed_without_email(app: SandboxApp, list_id: str, count: int) -> None:
    body = {"emails": [], "without_email": count}
    await admin_call(app, "POST", f"lists/{list_id}/members", json=body)


async def test_columns_equal_read_members_across_ranges() -> None:
    app = sandbox_app()
    await seed(app, "Col001", emails("c", 5_000), batches=50)
    await seed_without_email(app, "Col001", 7)
    await seed(app, "Col001", emails("d", 300), batches=3)
    client, recorder = client_for(app, max_concurrency=8)
    pages: list[int] = []
    async with client:
        columns = await client.read_member_columns("Col001", on_page=pages.append)
        members = await client.read_members("Col001")
        info = await client.get_list("Col001", with_count=True)
    assert len(members) == columns.count == 5_300
    rows = set(
        zip(
            columns.emails.to_pylist(),
            in_memory(columns.profile_ids).to_pylist(),
            columns.joined_us.to_pylist(),
            strict=True,
        )
    )
    assert rows == {(m.email, m.profile_id, to_micros(m.joined_at)) for m in members}
    assert [m.joined_at for m in members] == sorted(m.joined_at for m in members)
    assert columns.without_email == 7 and columns.total == info.profile_count == 5_307
    assert sum(pages) == 5_307
    assert columns.newest_us == max(to_micros(m.joined_at) for m in members)
    ranged = [s for s in recorder.sent if "greater-or-equal" in s.query]
    assert len({s.query for s in ranged}) >= 4  # the read was split into ranges


def test_repeated_profile_ids_and_emails_keep_one_row() -> None:
    builder = MemberColumnsBuilder()
    builder.extend(["a@x.co", "b@x.co"], ["P1", "P2"], [20, 10])
    builder.extend(["a2@x.co", "b@x.co", "c@x.co"], ["P1", "P3", "P4"], [5, 30, 40])
    read = builder.finish(0, None)
    # P1 twice: the earlier join (a2@x.co at 5) is kept, as when ranges were read in order
    assert sorted(in_memory(read.profile_ids).to_pylist()) == ["P1", "P2", "P3", "P4"]
    assert ("a2@x.co", "P1") in zip(
        read.emails.to_pylist(), in_memory(read.profile_ids).to_pylist(), strict=True
    )
    unique = unique_emails(read)
    # b@x.co twice: the later join (P3 at 30) wins, as a later row in a dict
    assert dict(
        zip(unique.emails.to_pylist(), in_memory(unique.profile_ids).to_pylist(), strict=True)
    ) == {
        "a2@x.co": "P1",
        "b@x.co": "P3",
        "c@x.co": "P4",
    }
    assert isinstance(unique.emails, pa.ChunkedArray)


def test_rows_dropped_as_repeats_leave_one_chunk() -> None:
    """A read of ten million members drops thousands of repeats (where two cursors met): each
    column stays one chunk, not one per span between dropped rows (a ``take`` from a column
    of thousands of chunks made the diff's string check 15 s at 10M)."""
    builder = MemberColumnsBuilder()
    ids = [f"P{i // 2}" for i in range(1_000)]  # every other row repeats the one before
    builder.extend([f"m{i}@x.co" for i in range(1_000)], ids, list(range(1_000)))
    read = builder.finish(0, None)
    assert len(read.profile_ids) == 500 and len(set(in_memory(read.profile_ids).to_pylist())) == 500
    assert isinstance(read.profile_ids, pa.ChunkedArray)
    assert read.emails.num_chunks == read.profile_ids.num_chunks == read.joined_us.num_chunks == 1
    assert read.emails.to_pylist() == [f"m{i}@x.co" for i in range(0, 1_000, 2)]  # earliest


async def test_members_without_email_do_not_force_full_reads(tmp_path: Path) -> None:
    app = sandbox_app()
    await seed(app, "Sms001", emails("s", 1_200), batches=6)
    await seed_without_email(app, "Sms001", 5)
    client, _ = client_for(app, max_concurrency=4)
    with open_state(str(tmp_path / "state.db")) as state:
        async with client:
            first = await read_list_state(
                KlaviyoDestination(client), state, "acct", "Sms001", refresh=False
            )
            second = await read_list_state(
                KlaviyoDestination(client), state, "acct", "Sms001", refresh=False
            )
            # SMS-only members join after the cached read: counted once, not re-read
            await seed_without_email(app, "Sms001", 2)
            await seed(app, "Sms001", emails("t", 3))
            third = await read_list_state(
                KlaviyoDestination(client), state, "acct", "Sms001", refresh=False
            )
            fourth = await read_list_state(
                KlaviyoDestination(client), state, "acct", "Sms001", refresh=False
            )
        cached = state.cache.load_columns("acct", "Sms001")
        # (the profile ids of a cached read stay in the state: read while it is open)
        assert fourth.members.as_dict() == third.members.as_dict()
    assert [s.incremental for s in (first, second, third, fourth)] == [False, True, True, True]
    assert len(first.members) == len(second.members) == 1_200
    assert len(third.members) == len(fourth.members) == 1_203
    assert cached is not None and (cached.count, cached.without_email) == (1_203, 7)


@pytest.mark.parametrize("repeats", [False, True])
def test_a_large_read_keeps_its_ids_in_a_private_file(
    repeats: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``SPILL_IDS_AT`` members on the ids go to a file as they come (those read before
    too): the read gives the same members as one held in memory, repeats dropped alike."""
    monkeypatch.setattr(columns, "CHUNK", 7)
    monkeypatch.setattr(spill, "BATCH", 5)
    emails = [f"m{i}@x.co" for i in range(100)]
    ids = [f"P{i}" for i in range(100)]
    if repeats:
        ids[50] = "P3"  # a profile read twice (two cursors met)
        emails[80] = emails[10]  # an email on two rows: the later join wins
    joined = list(range(100))

    def read(spill_at: int) -> ListMembers:
        monkeypatch.setattr(columns, "SPILL_IDS_AT", spill_at)
        builder = MemberColumnsBuilder()
        for start in range(0, 100, 9):
            end = start + 9
            builder.extend(emails[start:end], ids[start:end], joined[start:end])
        return unique_emails(builder.finish(0, None))

    held, spilled = read(10**9), read(20)
    assert isinstance(spilled.profile_ids, SpilledStrings)
    assert isinstance(held.profile_ids, pa.ChunkedArray)
    assert len(spilled.profile_ids) == len(held.profile_ids) == (98 if repeats else 100)
    assert in_memory(spilled.profile_ids).to_pylist() == held.profile_ids.to_pylist()
    assert spilled.emails.to_pylist() == held.emails.to_pylist()
    assert spilled.joined_us.to_pylist() == held.joined_us.to_pylist()
