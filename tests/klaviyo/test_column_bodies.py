"""Job bodies encoded from the plan's Arrow columns equal those the Python encoder makes for the
same profiles: byte for byte, and valid against Klaviyo's contract."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.klaviyo.chunks import (
    ENCODE_SLICE,
    TOO_LARGE,
    body_for,
    iter_split,
    prepare,
    prepared_any,
)
from reconciler.klaviyo.facts import FACTS
from reconciler.klaviyo.models import ImportFailure
from reconciler.plan.builder import ListState, build_export_plan
from reconciler.plan.rows import MemberRows
from reconciler.sources import read_segment
from reconciler.sources.fields import ProfileFields
from reconciler.values import ProfileInput, ProfileRows
from tests.openapi_contract import validate_request
from tests.plan.test_columnar_diff import CONNECTION
from tests.sources.conftest import config, export, file_source, segment

FIELDS = {
    "ann@example.com": {"first_name": "Ann", "phone_number": "+15005550006"},
    "bo@example.com": {"first_name": 'Bö "quoted" \\ ünï', "properties": {"tier": "gold"}},
    "cy@example.com": {"properties": {"score": 3, "vip": True, "ratio": 0.25}},
    "di@example.com": {"properties": {"tags": ["a", "b"], "meta": {"k": 1}}},
    "ed@example.com": {},
}


def _bodies(profiles: list[ProfileInput] | ProfileRows) -> list[bytes]:
    rejected: list[ImportFailure] = []
    chunks = iter_split("Y6nRLr", prepared_any(profiles, rejected), max_profiles=2)
    assert not rejected
    return [body_for("Y6nRLr", chunk) for chunk in chunks]


def _python(emails: list[str], fields: dict[str, dict[str, object]]) -> list[ProfileInput]:
    """The profiles as the encoder took them before the plan was columnar."""
    out = []
    for email in emails:
        record = dict(fields.get(email) or {})
        custom = record.pop("properties", {})
        out.append(ProfileInput(email, record, custom))  # type: ignore[arg-type]
    return out


def test_bodies_from_columns_equal_the_python_encoders() -> None:
    emails = list(FIELDS)
    keys = ["first_name", "phone_number", "properties.tier", "properties.score"]
    keys += ["properties.vip", "properties.ratio", "properties.tags", "properties.meta"]
    rows = MemberRows.of(emails, FIELDS, keys)
    columns = _bodies(rows.profiles())
    assert columns == _bodies(_python(emails, FIELDS))
    for body in columns:
        validate_request("bulk_import_profiles", json.loads(body))
    assert rows.table.schema.field("properties.meta").metadata  # mixed values: JSON text


def test_bodies_from_a_file_segments_columns(tmp_path: Path) -> None:
    lines = ["email,first_name,tier,ltv"]
    lines += [f"u{i}@example.com,Name{i},{'gold' if i % 3 else ''},{i * 1.5}" for i in range(2500)]
    (tmp_path / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    exp = export("e", "s", first_name="first_name", properties={"tier": "tier", "ltv": "ltv"})
    cfg = config(
        [file_source("src", {"people": "people.csv"})], [segment("s", "src", table="people")], [exp]
    )
    data = read_segment(cfg, exp, tmp_path, batch_size=700)
    plan = build_export_plan(
        exp, CONNECTION, data, ListState("a", "Y6nRLr", "L", {}), config_digest="c", facts=FACTS
    )
    assert isinstance(data.properties, ProfileFields) and len(plan.add) == 2500
    emails = list(plan.add)
    old = _python(emails, data.properties.fields_for(emails))
    assert len(plan.adds) > ENCODE_SLICE  # several slices of rows become Python in turn
    assert _bodies(plan.adds.profiles()) == _bodies(old)


def test_cleared_fields_are_sent_as_null() -> None:
    fields = {"a@example.com": {"first_name": "A"}, "b@example.com": {"properties": {"t": 1}}}
    cleared = {"a@example.com": ["properties.t"], "b@example.com": ["first_name"]}
    rows = MemberRows.of(list(fields), fields, ["first_name", "properties.t"], cleared)
    ready, rejected = prepare(rows.profiles().inputs())
    sent = [json.loads(p.encoded)["attributes"] for p in ready]
    assert not rejected
    assert sent == [
        {"first_name": "A", "email": "a@example.com", "properties": {"t": None}},
        {"first_name": None, "email": "b@example.com", "properties": {"t": 1}},
    ]
    validate_request("bulk_import_profiles", json.loads(body_for("Y6nRLr", ready)))


def test_an_oversized_profile_in_columns_is_rejected_alone() -> None:
    fields = {"big@example.com": {"properties": {"blob": "x" * 120_000}}, "ok@example.com": {}}
    rejected: list[ImportFailure] = []
    ready = list(prepared_any(MemberRows.of(list(fields), fields).profiles(), rejected))
    assert [p.email for p in ready] == ["ok@example.com"]
    assert [(f.email, f.reason) for f in rejected] == [("big@example.com", TOO_LARGE)]
