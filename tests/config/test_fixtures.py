"""One broken fixture per rule: each declares the problems it must produce (code and line)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.config import load_config_from_files
from tests.config.helpers import FIXTURES, codes_at

EXPECT = re.compile(r"^# expect: (.+)$", re.MULTILINE)
FIXTURE_FILES = sorted(FIXTURES.glob("*.yaml"))


def expected(path: Path) -> list[tuple[str, int]]:
    match = EXPECT.search(path.read_text(encoding="utf-8"))
    assert match, f"{path.name} has no '# expect:' line"
    pairs = [token.split("@") for token in match.group(1).split()]
    return sorted((code, int(line)) for code, line in pairs)


def test_every_rule_has_a_fixture() -> None:
    from reconciler.config.codes import CODES

    covered = {code for path in FIXTURE_FILES for code, _ in expected(path)}
    # encoding, empty and missing-directory problems need bytes or directories: see test_loader;
    # source checks (validate --sources) need real files: see test_validate_sources
    assert set(CODES) - covered == {"R003", "R005", "R007", "R031", "R032"}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_reports_exactly_its_problems(path: Path) -> None:
    name = f"exports/{path.name}"
    config, problems = load_config_from_files({name: path.read_bytes()})
    assert codes_at(problems) == expected(path)
    assert all(p.file == name for p in problems)
    assert all(p.column >= 1 and p.message for p in problems)
    has_errors = any(p.severity == "error" for p in problems)
    assert (config is None) == has_errors


def test_fixture_messages_point_to_the_fix() -> None:
    def messages(stem: str) -> list[str]:
        path = FIXTURES / f"{stem}.yaml"
        problems = load_config_from_files({"exports/x.yaml": path.read_bytes()})[1]
        return [f"{p.message} | {p.hint}" for p in problems]

    assert any(
        "`list-id`" in m and "did you mean `list_id`?" in m for m in messages("r011_unknown_key")
    )
    assert any("did you mean `first_name`?" in m for m in messages("r011_unknown_key"))
    assert any("did you mean `crm`?" in m for m in messages("r021_unresolved_reference"))
    assert any("did you mean `Export`?" in m for m in messages("r010_bad_kind"))
    first = [m for m in messages("r020_duplicate_name") if "first one is at exports/x.yaml:11" in m]
    assert first
    assert any("password_env" in m for m in messages("r027_url_password"))
    assert not any("hunter2" in m for m in messages("r027_url_password"))
