"""The columnar diff (Arrow arrays) gives the same plan as plain sets and dicts (its rows in
the order of its inputs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reconciler.engine.stages.imports import profiles_for
from reconciler.klaviyo.facts import FACTS
from reconciler.models import Export, KlaviyoConnection
from reconciler.plan.builder import ListState, build_export_plan, diff_members
from reconciler.plan.digest import mapping_digest
from reconciler.plan.members import MemberTable
from reconciler.plan.model import ROW_KINDS, Plan
from reconciler.plan.planfile import seal
from reconciler.plan.rows import MemberRows
from reconciler.sources import SegmentData, read_segment
from reconciler.sources.emailset import EmailSet
from reconciler.values import ProfileInput
from tests.sources.conftest import config, export, file_source, segment

CONNECTION = KlaviyoConnection.model_validate(
    {
        "kind": "Connection",
        "name": "klaviyo",
        "display_name": "Test",
        "api_key": {"env": "TEST_KLAVIYO_KEY"},
        "consent": {"accepted": True, "accepted_by": "a@b.co", "accepted_at": "2026-11-20"},
    }
)


def test_member_table_digest_is_the_mapping_digest() -> None:
    rng = random.Random(5)
    pairs = {f"u{rng.randrange(10**9)}@exämple.com": f"P{i}" for i in range(250_000)}
    pairs["zz@example.com"] = ""
    assert MemberTable.from_mapping(pairs).digest() == mapping_digest(pairs)
    reordered = dict(reversed(list(pairs.items())))
    assert MemberTable.from_mapping(reordered).digest() == mapping_digest(pairs)
    assert MemberTable.from_mapping({}).digest() == mapping_digest({})
    one = {"a@b.co": "X"}
    assert MemberTable.from_mapping(one).digest() == mapping_digest(one)
    assert MemberTable.from_mapping(one).as_dict() == one


def _segment(tmp_path: Path) -> tuple[Export, SegmentData]:
    lines = ["email,first_name,tier"]
    lines += [f"user{i}@example.com,Name{i},{'gold' if i % 3 else ''}" for i in range(3000)]
    lines += ["USER7@example.com,Second,silver", "not-an-email,X,y", "new@example.com,,"]
    (tmp_path / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    exp = export("e", "s", first_name="first_name", properties={"tier": "tier"})
    cfg = config(
        [file_source("src", {"people": "people.csv"})], [segment("s", "src", table="people")], [exp]
    )
    return exp, read_segment(cfg, exp, tmp_path, batch_size=700)


def _plain(data: SegmentData) -> SegmentData:
    """The same segment as a plain frozenset and a dict of dicts (no Arrow)."""
    props = {e: dict(data.properties[e]) for e in data.properties}
    return dataclasses.replace(
        data, emails=frozenset(data.emails), email_array=None, properties=props
    )


@pytest.mark.parametrize("mode", ["mirror", "add_only"])
def test_columnar_and_plain_inputs_give_the_same_plan(tmp_path: Path, mode: str) -> None:
    exp, data = _segment(tmp_path)
    exp = exp.model_copy(update={"mode": mode})
    assert isinstance(data.emails, EmailSet) and data.email_array is not None
    members = {f"user{i}@example.com": f"01P{i:020d}" for i in range(500, 4000)}
    plans = []
    for seg, current in (
        (data, ListState("acct", "AbC123", "L", MemberTable.from_mapping(members))),
        (_plain(data), ListState("acct", "AbC123", "L", members)),
    ):
        built = build_export_plan(exp, CONNECTION, seg, current, config_digest="c", facts=FACTS)
        plans.append(
            seal(
                Plan(
                    created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                    config_dir="x",
                    exports=(built,),
                )
            )
        )
    columnar, plain = plans
    # the same plan; rows in the order each input gives them (the segment's, the list's)
    header = {"checksum": True, "exports": {"__all__": set(ROW_KINDS)}}
    assert columnar.model_dump(exclude=header) == plain.model_dump(exclude=header)
    for kind in ROW_KINDS:
        one, other = getattr(columnar.exports[0], kind), getattr(plain.exports[0], kind)
        assert by_email(one).equals(by_email(other)), kind
    built = columnar.exports[0]
    assert built.add[:2] == ("user0@example.com", "user1@example.com")  # the segment's order
    assert built.add[-1] == "new@example.com"
    assert len(built.add) == 501 and built.unchanged == 2500
    fields = {p.email: p for p in profiles_for(built)}
    assert fields["user1@example.com"] == ProfileInput(
        "user1@example.com", {"first_name": "Name1"}, {"tier": "gold"}
    )
    assert fields["user0@example.com"] == ProfileInput("user0@example.com", {"first_name": "Name0"})
    assert fields["new@example.com"] == ProfileInput("new@example.com")  # no field at all
    if mode == "mirror":
        assert len(built.remove) == 1000 and "user3000@example.com" in built.remove
        at = built.remove.index("user3000@example.com")
        assert built.remove_ids[at] == members["user3000@example.com"]
    else:
        assert built.remove == () and built.remove_ids == ()


def by_email(rows: MemberRows) -> pa.Table:
    return rows.table.take(pc.sort_indices(rows.table, [("email", "ascending")]))


def test_digest_of_chunked_columns_with_unaligned_chunks() -> None:
    rng = random.Random(9)
    pairs = {f"u{rng.randrange(10**6)}@example.com": f"P{i}" for i in range(5000)}
    emails, ids = list(pairs), list(pairs.values())

    def chunked(values: list[str], cuts: list[int]) -> pa.ChunkedArray:
        bounds = [0, *cuts, len(values)]
        parts = [values[a:b] for a, b in itertools.pairwise(bounds)]
        return pa.chunked_array([pa.array(p, type=pa.string()) for p in parts])

    table = MemberTable(chunked(emails, [1, 700, 2500]), chunked(ids, [1999, 2000, 4999]))
    assert table.digest() == mapping_digest(pairs)
    assert table.as_dict() == pairs


@pytest.mark.parametrize("mode", ["mirror", "add_only"])
def test_the_members_go_once_the_segment_is_matched_with_them(tmp_path: Path, mode: str) -> None:
    """Planning matches the list first (``diff_members``) and lets the members go before it
    loads what was last sent: the diff keeps none of their memory, and gives the same plan."""
    exp, data = _segment(tmp_path)
    exp = exp.model_copy(update={"mode": mode})
    size = 60_000
    emails = pa.array([f"user{i}@example.com" for i in range(500, 500 + size)], pa.string())
    ids = pa.array([f"01P{i:020d}" for i in range(size)], pa.string())
    whole = build_export_plan(
        exp,
        CONNECTION,
        data,
        ListState("acct", "AbC123", "L", MemberTable(emails, ids)),
        config_digest="c",
        facts=FACTS,
    )
    current = ListState("acct", "AbC123", "L", MemberTable(emails, ids))
    member_bytes = emails.nbytes + ids.nbytes
    del emails, ids
    before = pa.total_allocated_bytes()
    diff = diff_members(exp, data, current)
    del current
    kept = diff.removes.table.nbytes  # the members to remove: a copy of theirs, all it keeps
    assert pa.total_allocated_bytes() <= before - member_bytes + kept + member_bytes // 10
    staged = build_export_plan(exp, CONNECTION, data, diff, config_digest="c", facts=FACTS)
    assert staged.model_dump(exclude=set(ROW_KINDS)) == whole.model_dump(exclude=set(ROW_KINDS))
    for kind in ROW_KINDS:
        assert getattr(staged, kind) == getattr(whole, kind), kind
    assert len(staged.remove) == (size - 2500 if mode == "mirror" else 0)
