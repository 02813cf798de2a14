"""Helpers shared by the config tests: paths and small writers."""

from __future__ import annotations

import shutil
from pathlib import Path

from reconciler.config import load_config_from_files
from reconciler.errors import Problem

REPO = Path(__file__).resolve().parents[2]
EXPORTS = REPO / "exports"
SCHEMAS = REPO / "schemas"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "pk_" + "0123456789abcdef0123456789abcdef01"

CONNECTION = """\
kind: Connection
name: main
api_key: {env: KLAVIYO_KEY}
consent: {accepted: true, accepted_by: jane, accepted_at: 2026-01-15}
"""
SOURCE = """\
kind: Source
name: crm
files: {people: data/people.csv}
"""
SEGMENT = """\
kind: Segment
name: all
source: crm
table: people
"""
EXPORT = """\
kind: Export
name: all-to-list
segment: all
connection: main
list_id: AbC123
fields: {email: email}
"""
VALID = "---\n".join([CONNECTION, SOURCE, SEGMENT, EXPORT])


def problems_of(text: str | bytes, name: str = "exports/t.yaml") -> list[Problem]:
    """Problems of one in-memory file (under ``exports/``)."""
    content = text.encode() if isinstance(text, str) else text
    return load_config_from_files({name: content})[1]


def codes_at(problems: list[Problem]) -> list[tuple[str, int]]:
    return sorted((p.code, p.line) for p in problems)


def copy_exports(target: Path) -> Path:
    """A copy of the example ``exports/`` directory (with its data) under ``target``."""
    config_dir = target / "exports"
    shutil.copytree(EXPORTS, config_dir)
    return config_dir
