"""Mirror mode never removes a member because of our own email validator (17.2, 17.3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from reconciler.klaviyo.facts import FACTS
from reconciler.plan.builder import ListState, build_export_plan
from reconciler.plan.members import MemberTable
from reconciler.plan.model import ExportPlan, Plan
from reconciler.plan.render import export_summary, render_text
from reconciler.sources import SegmentData, read_segment
from tests.plan.test_columnar_diff import CONNECTION
from tests.sources.conftest import config, export, file_source, segment

CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ROWS = [
    "plain@example.com",
    "user@example.xn--p1ai",  # IDN top-level domain, ASCII form
    "Ivan@Пример.РФ",  # the Unicode form
    "\u212aate@example.com",  # Kelvin sign: not the real kate@example.com
    "printer@office.local",  # special-use domain: refused by the validator
]


def _plan(
    tmp_path: Path, members: dict[str, str], chunked: bool = False
) -> tuple[SegmentData, ExportPlan]:
    (tmp_path / "p.csv").write_text("email\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    exp = export("e", "s").model_copy(update={"mode": "mirror"})
    cfg = config([file_source("src", {"p": "p.csv"})], [segment("s", "src", table="p")], [exp])
    data = read_segment(cfg, exp, tmp_path)
    table = MemberTable.from_mapping(members)
    if chunked:
        table = MemberTable(pa.chunked_array([table.emails]), pa.chunked_array([table.profile_ids]))
    current = ListState("acct", "AbC123", "L", table)
    return data, build_export_plan(exp, CONNECTION, data, current, config_digest="c", facts=FACTS)


def test_idn_addresses_are_valid_and_stay_members(tmp_path: Path) -> None:
    members = {"plain@example.com": "P1", "user@example.xn--p1ai": "P2", "ivan@пример.рф": "P3"}
    data, plan = _plan(tmp_path, members)
    assert {"user@example.xn--p1ai", "ivan@пример.рф"} <= set(data.emails)
    assert plan.remove == () and plan.add == ()
    assert plan.unchanged == 3


def test_the_kelvin_sign_is_not_folded_into_another_address(tmp_path: Path) -> None:
    data, plan = _plan(tmp_path, {})
    assert "kate@example.com" not in data.emails
    assert data.invalid == 2  # the Kelvin row and the .local row, reported (masked)
    assert data.invalid_samples[0].startswith("\u212a***@")
    assert "kate@example.com" not in plan.add


def test_members_our_validator_refuses_are_kept_and_reported(tmp_path: Path) -> None:
    members = {
        "plain@example.com": "P1",
        "printer@office.local": "P2",  # Klaviyo holds it; our validator refused the row
        "kate@example.com": "P3",  # what the Kelvin row becomes when lower-cased naively
        "gone@example.com": "P4",
    }
    for chunked in (False, True):
        _, plan = _plan(tmp_path, members, chunked=chunked)
        assert plan.remove == ("gone@example.com",)
        assert plan.remove_ids == ("P4",)
        assert plan.kept_invalid == 2
        assert export_summary(plan)["kept_invalid"] == 2
        text = render_text(Plan(created_at=CREATED, config_dir="x", exports=(plan,)))
        assert "kept 2 members" in text
        assert "printer@office.local" not in text and "kate@example.com" not in text
