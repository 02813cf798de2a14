"""The plan file's binary form: members as compressed Arrow columns, sealed twice, owner-only;
any edit, cut or re-sealed change of content is refused with a precise PlanFileError."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pytest

from reconciler.errors import PlanFileError
from reconciler.plan.planfile import DIGEST_BYTES, MAGIC, read_plan, write_plan
from reconciler.plan.rows import Emails, MemberRows, same_set
from tests.plan.factories import export_plan, plan_of

KEYS = ("first_name", "properties.tier")


def _large(adds: int) -> object:
    emails = [f"person.{i}@example.com" for i in range(adds)]
    fields = {
        e: {"first_name": f"N{i}", "properties": {"tier": i % 7}} for i, e in enumerate(emails)
    }
    updates = emails[:10]
    fields[updates[0]] = {"properties": {"tier": 1}}  # first_name now null: sent as null
    cleared = {updates[0]: ["first_name"]}
    return plan_of(
        export_plan(
            adds=0,
            field_keys=KEYS,
            add=tuple(emails),
            add_fields=fields,
        ).model_copy(update={"updates": MemberRows.of(updates, fields, KEYS, cleared)})
    )


def test_a_large_plan_round_trips_compactly(tmp_path: Path) -> None:
    plan = _large(200_000)
    path = tmp_path / "plan.bin"
    write_plan(plan, path)  # type: ignore[arg-type]
    assert os.stat(path).st_mode & 0o777 == 0o600
    back = read_plan(path)
    assert back == plan
    assert len(back.exports[0].add) == 200_000 and back.exports[0].add[-1].endswith("9@example.com")
    assert back.exports[0].updates.as_dict()["person.0@example.com"]["first_name"] is None
    assert path.stat().st_size < 200_000 * 20  # a JSON plan took ~80 bytes a member


def _written(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "plan.bin"
    write_plan(plan_of(export_plan(adds=3000, removes=500)), path)
    return path, path.read_bytes()


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, -1])
def test_a_changed_byte_anywhere_is_refused(tmp_path: Path, where: float) -> None:
    path, data = _written(tmp_path)
    at = len(data) - 1 if where == -1 else int(len(data) * where)
    changed = bytearray(data)
    changed[at] ^= 0x20
    path.write_bytes(bytes(changed))
    with pytest.raises(PlanFileError, match="checksum mismatch: the plan file was modified"):
        read_plan(path)


@pytest.mark.parametrize("keep", [len(MAGIC) + 3, 400, 0.5, -DIGEST_BYTES, -1])
def test_a_truncated_plan_file_is_refused(tmp_path: Path, keep: float) -> None:
    path, data = _written(tmp_path)
    size = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:size])
    with pytest.raises(PlanFileError, match=r"cut short|checksum mismatch") as caught:
        read_plan(path)
    assert str(path) in str(caught.value)


def test_content_edited_and_its_digest_recomputed_is_refused_by_the_checksum(
    tmp_path: Path,
) -> None:
    path, data = _written(tmp_path)
    body = data[:-DIGEST_BYTES]
    assert body.count(b"new.person.7@example.com") == 0  # the emails are compressed columns
    edited = body.replace(b'"Y6nRLr"', b'"Zz9Zz9"')
    path.write_bytes(edited + hashlib.sha256(edited).digest())
    with pytest.raises(PlanFileError, match="does not match its checksum"):
        read_plan(path)


def test_bytes_appended_are_refused(tmp_path: Path) -> None:
    path, data = _written(tmp_path)
    path.write_bytes(data + b"\0")
    with pytest.raises(PlanFileError, match="checksum mismatch"):
        read_plan(path)


def test_a_version_1_json_plan_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text('{"version": 1, "exports": []}')
    with pytest.raises(PlanFileError, match=r"format version 2.*plan again"):
        read_plan(path)


def test_a_saved_plans_columns_compare_with_a_fresh_plans_arrays() -> None:
    one = Emails(pa.chunked_array([pa.array(["a@x.co", "b@x.co"]), pa.array(["c@x.co"])]))
    same = Emails(pa.array(["a@x.co", "b@x.co", "c@x.co"]))
    shuffled = Emails(pa.array(["c@x.co", "a@x.co", "b@x.co"]))
    other = Emails(pa.array(["a@x.co", "b@x.co", "d@x.co"]))
    assert one == same and same == one and one == ("a@x.co", "b@x.co", "c@x.co")
    assert same_set(one, same) and same_set(same, one) and same_set(shuffled, one)
    assert not same_set(one, other) and not same_set(other, shuffled)
    assert not same_set(one, Emails(pa.array(["a@x.co"])))
