"""fields.phone_number in E.164 with the export's default_region (issue 13)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from reconciler.klaviyo.facts import FACTS
from reconciler.plan.builder import ListState, build_export_plan
from reconciler.plan.model import Plan
from reconciler.plan.render import export_summary, render_text
from reconciler.sources import read_segment
from reconciler.sources.phones import mask_phone, normalise_phone
from tests.plan.test_columnar_diff import CONNECTION
from tests.sources.conftest import config, export, file_source, segment, url_source

CSV = (
    "email,phone\n"
    "a@example.com,0151 2345678\n"
    "b@example.com,+44 20 7946 0958\n"
    "c@example.com,12\n"
    "d@example.com,\n"
    "e@example.com,+491709876543\n"
    "f@example.com,not a number 555\n"
)


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("0151 2345678", "DE", "+491512345678"),
        ("0049 151 2345678", "DE", "+491512345678"),
        ("(650) 253-0000", "US", "+16502530000"),
        ("+491512345678", None, "+491512345678"),
        ("0151 2345678", None, None),  # no country code and no region
        ("12", "DE", None),  # local-only
        ("555-1234", "US", None),
        ("call me", "DE", None),
        (None, "DE", None),
    ],
)
def test_normalise_phone(value: str | None, region: str | None, expected: str | None) -> None:
    assert normalise_phone(value, region) == expected


def test_mask_phone_keeps_the_length_and_last_two_digits() -> None:
    assert mask_phone("+49 151 2345678") == "+4*********78"
    assert "2345678" not in mask_phone("0151 2345678")


def _export(region: str | None = "DE"):  # type: ignore[no-untyped-def]
    exp = export("e", "s", phone_number="phone")
    return exp.model_copy(update={"default_region": region, "mode": "mirror"})


def test_file_source_phones_become_e164_and_invalid_ones_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(CSV)
    exp = _export()
    cfg = config([file_source("src", {"p": "p.csv"})], [segment("s", "src", table="p")], [exp])
    data = read_segment(cfg, exp, tmp_path)
    assert data.properties["a@example.com"] == {"phone_number": "+491512345678"}
    assert data.properties["b@example.com"] == {"phone_number": "+442079460958"}
    assert data.properties["e@example.com"] == {"phone_number": "+491709876543"}
    assert "c@example.com" in data.emails and not data.properties.get("c@example.com")
    assert data.invalid_phones == 2
    assert data.invalid_phone_samples == ("**", "no*********55")  # blanks removed
    plan = build_export_plan(
        exp, CONNECTION, data, ListState("acct", "AbC123", "L", {}), config_digest="c", facts=FACTS
    )
    assert "c@example.com" in plan.add and "c@example.com" not in plan.adds.as_dict()
    assert plan.adds.as_dict()["a@example.com"] == {"phone_number": "+491512345678"}
    assert export_summary(plan)["invalid_phones"] == 2
    text = render_text(
        Plan(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), config_dir="x", exports=(plan,))
    )
    assert "2 phone numbers dropped" in text and "2345678" not in text


def test_without_default_region_phones_go_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(CSV)
    exp = _export(region=None)
    cfg = config([file_source("src", {"p": "p.csv"})], [segment("s", "src", table="p")], [exp])
    data = read_segment(cfg, exp, tmp_path)
    assert data.properties["a@example.com"] == {"phone_number": "0151 2345678"}
    assert data.invalid_phones == 0


def test_database_source_phones(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute("CREATE TABLE p (email TEXT, phone TEXT)")
        db.executemany(
            "INSERT INTO p VALUES (?, ?)",
            [("a@example.com", "0151 2345678"), ("b@example.com", "0151")],
        )
    exp = _export()
    cfg = config([url_source("db", "sqlite:///crm.db")], [segment("s", "db", table="p")], [exp])
    data = read_segment(cfg, exp, tmp_path)
    assert data.properties["a@example.com"] == {"phone_number": "+491512345678"}
    assert not data.properties.get("b@example.com")
    assert data.invalid_phones == 1
