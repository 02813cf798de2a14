"""Random and hostile input to the plan-file reader and the CSV reader: typed errors only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import load_config
from reconciler.errors import PlanFileError, SourceError
from reconciler.plan.planfile import MAX_PLAN_FILE_BYTES, read_plan, seal, write_plan
from reconciler.sources import read_segment
from tests.e2e.workspace import Workspace
from tests.plan.factories import export_plan, plan_of
from tests.plan.planbytes import join_file, split_file

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _read(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        read_plan(path)
    except PlanFileError as exc:
        assert str(path) in str(exc)


@FUZZ
@given(content=st.binary(max_size=2_000))
def test_random_bytes_as_plan_file(tmp_path: Path, content: bytes) -> None:
    _read(tmp_path / "plan.json", content)


@FUZZ
@given(value=JSON)
def test_random_json_as_plan_file(tmp_path: Path, value: object) -> None:
    _read(tmp_path / "plan.json", json.dumps(value).encode())


def _fits(node: Any, key: str | int) -> bool:
    """``node[key]`` exists (a key of a dict, an index of a list)."""
    if isinstance(node, dict):
        return isinstance(key, str) and key in node
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


def _valid(tmp_path: Path) -> tuple[dict[str, Any], bytes]:
    """A real plan file's header (as JSON data) and its table streams."""
    path = tmp_path / "valid.plan"
    write_plan(plan_of(export_plan()), path)
    return split_file(path.read_bytes())


@FUZZ
@given(
    path=st.lists(
        st.sampled_from(
            [
                "exports",
                0,
                "add",
                "guards",
                "fingerprints",
                "version",
                "created_at",
                "name",
                "estimate",
                "list_id",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    value=JSON,
)
def test_edited_plan_files_are_refused_or_valid(
    tmp_path: Path, path: list[str | int], value: object
) -> None:
    """Any value anywhere in the header, with a recomputed file digest (with or without a
    recomputed checksum): a Plan or a PlanFileError."""
    raw: Any
    raw, tables = _valid(tmp_path)
    node = raw
    for step in path[:-1]:
        if _fits(node, step):
            node = node[step]
    if _fits(node, path[-1]) or (isinstance(node, dict) and isinstance(path[-1], str)):
        node[path[-1]] = value
    _read(tmp_path / "plan.json", join_file(json.dumps(raw).encode(), tables))


def test_deeply_nested_plan_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(join_file(b"[" * 100_000 + b"]" * 100_000, b""))
    with pytest.raises(PlanFileError, match="not a readable plan file"):
        read_plan(path)


def test_plan_file_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:  # sparse: nothing is written, nothing is read
        fh.truncate(MAX_PLAN_FILE_BYTES + 1)
    with pytest.raises(PlanFileError, match="over the 1 GiB limit"):
        read_plan(path)


def test_plan_file_is_owner_readable_and_round_trips(tmp_path: Path) -> None:
    plan = seal(plan_of(export_plan()))
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    assert os.stat(path).st_mode & 0o077 == 0
    assert read_plan(path) == plan


@pytest.fixture(scope="module")
def csv_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("csvfuzz"))
    ws.write_members("seg", ["a@example.com"])
    ws.add_export("fuzz", "seg", "Y6nRLr")
    ws.write_config()
    return ws


CSV_PIECES = st.sampled_from(
    [
        b"email",
        b"first_name",
        b",",
        b"\n",
        b"\r\n",
        b'"',
        b"a@example.com",
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b";",
        b"\t",
        b"=cmd()",
        b"x" * 300,
        b"@",
        b"\xc3",
        b" ",
    ]
)


@settings(max_examples=60, deadline=None)
@given(content=st.one_of(st.binary(max_size=600), st.lists(CSV_PIECES, max_size=40).map(b"".join)))
def test_random_bytes_as_csv_give_a_segment_or_source_error(
    csv_workspace: Workspace, content: bytes
) -> None:
    ws = csv_workspace
    (ws.config_dir / "data" / "seg.csv").write_bytes(content)
    config = load_config(ws.config_dir)
    export = config.exports["fuzz"]
    try:
        data = read_segment(config, export, ws.config_dir)
    except SourceError as exc:
        assert str(exc)
        return
    assert all("@" in email for email in data.emails)
