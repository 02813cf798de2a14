"""JSON Schemas (draft 2020-12) generated from the pydantic models: one per kind, one combined.

``python -m reconciler.config.schema --write`` writes them to ``schemas/``;
``python -m reconciler.config.schema --check`` exits 1 when ``schemas/`` is out of date.
The validator uses the same generated schemas at run time.
"""

from __future__ import annotations

import argparse
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from reconciler.models import KINDS, Access, Connection, Export, Notification, Segment, Source

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
COMBINED = "reconciler.schema.json"

AnyDeclaration = Annotated[
    Connection | Source | Segment | Export | Access | Notification, Field(discriminator="kind")
]


def file_name(kind: str) -> str:
    return f"{kind.lower()}.schema.json"


@cache
def _kind_schema(kind: str) -> str:
    schema: dict[str, Any] = {"$schema": DRAFT}
    schema.update(KINDS[kind].json_schema(mode="validation"))
    return json.dumps(schema)


def kind_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind (a fresh copy)."""
    loaded: dict[str, Any] = json.loads(_kind_schema(kind))
    return loaded


def combined_schema() -> dict[str, Any]:
    """One schema for any document: a oneOf over every kind, discriminated by ``kind``."""
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": "reconciler declaration",
        "description": "Any declaration document; `kind` selects which one.",
    }
    schema.update(TypeAdapter(AnyDeclaration).json_schema(mode="validation"))
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every file under ``schemas/``."""
    schemas = {file_name(kind): kind_schema(kind) for kind in KINDS}
    schemas[COMBINED] = combined_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema to ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files in ``directory`` that are missing or differ from the models."""
    stale = []
    for name, schema in all_schemas().items():
        path = directory / name
        if not path.is_file() or json.loads(path.read_text(encoding="utf-8")) != schema:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.config.schema")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="write schemas/*.schema.json")
    action.add_argument("--check", action="store_true", help="exit 1 when schemas/ is stale")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema directory")
    args = parser.parse_args(argv)
    if args.write:
        write_schemas(args.dir)
        return 0
    stale = stale_schemas(args.dir)
    if stale:
        raise SystemExit(f"out of date: {', '.join(stale)}; run --write")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
