"""schemas/ agrees with the models; every field is described; the examples match their schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.config.schema import all_schemas, stale_schemas, write_schemas
from reconciler.config.yamlsafe import parse_documents
from reconciler.models import KINDS
from tests.config.helpers import EXPORTS, REPO, SCHEMAS


def test_schemas_dir_matches_the_models() -> None:
    assert stale_schemas(SCHEMAS) == [], "run: python -m reconciler.config.schema --write"
    on_disk = {p.name for p in SCHEMAS.glob("*.json")}
    assert on_disk == set(all_schemas())


def test_a_model_change_is_detected(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []
    path = tmp_path / "export.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    del schema["properties"]["list_id"]
    path.write_text(json.dumps(schema), encoding="utf-8")
    assert stale_schemas(tmp_path) == ["export.schema.json"]


def test_schema_module_check_runs_as_a_command() -> None:
    command = [sys.executable, "-m", "reconciler.config.schema", "--check", "--dir", str(SCHEMAS)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    assert (result.returncode, result.stderr) == (0, "")


def _objects(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object schema with declared properties, walking subschemas (not property maps)."""
    if not isinstance(schema, dict):
        return
    if "properties" in schema:
        yield schema
    children = [*schema.get("properties", {}).values(), *schema.get("$defs", {}).values()]
    children += [*schema.get("anyOf", []), *schema.get("oneOf", [])]
    children += [schema.get("items"), schema.get("additionalProperties")]
    for child in children:
        yield from _objects(child)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_field_is_described_and_unknown_keys_are_forbidden(kind: str) -> None:
    schema = json.loads((SCHEMAS / f"{kind.lower()}.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    objects = list(_objects(schema))
    assert objects
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj.get("description"), obj.get("title")
        for name, prop in obj["properties"].items():
            assert prop.get("description"), f"{kind}: {name} has no description"


def _example_files() -> list[Path]:
    return sorted(EXPORTS.rglob("*.yaml"))


def test_examples_cover_every_kind_and_declare_their_schema() -> None:
    kinds = set()
    for path in _example_files():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix), path.name
        schema_path = (path.parent / first[len(prefix) :]).resolve()
        assert schema_path.is_file(), first
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        validator = Draft202012Validator(schema)
        for document in _documents(path):
            kinds.add(document["kind"])
            errors = [e.message for e in validator.iter_errors(_jsonable(document))]
            assert errors == [], f"{path.name}: {errors}"
    assert kinds == set(KINDS)


def test_combined_schema_accepts_every_example_and_rejects_typos() -> None:
    combined = json.loads((SCHEMAS / "reconciler.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(combined)
    for path in _example_files():
        for document in _documents(path):
            assert validator.is_valid(_jsonable(document)), path.name
    assert not validator.is_valid({"kind": "Access", "admin": ["x"]})
    assert not validator.is_valid({"kind": "Nope"})


def _documents(path: Path) -> list[Any]:
    """The documents as the loader reads them (YAML 1.2 keys: a bare `on:` is text, as in
    editors; PyYAML's YAML 1.1 would read it as true)."""
    documents, issues = parse_documents(path.read_text(encoding="utf-8"), path.name)
    assert not issues, issues
    return [d.data for d in documents]


def _jsonable(value: Any) -> Any:
    """PyYAML reads dates as dates; JSON Schema sees them as text (as the loader does)."""
    return json.loads(json.dumps(value, default=str))


def test_example_data_is_realistic() -> None:
    lines = (EXPORTS / "data" / "profiles.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "email,first_name,last_name,country,lifetime_value,orders,subscribed"
    emails = [line.split(",")[0] for line in lines[1:]]
    assert 190 <= len(emails) <= 210
    normalised = [e.strip().lower() for e in emails]
    assert len(set(normalised)) < len(normalised)  # a duplicate differing by case/whitespace
    assert len(set(emails)) == len(emails)
    assert sum("@" not in e or e.count("@") > 1 for e in emails) >= 3  # a few invalid emails
