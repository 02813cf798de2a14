"""A literal private key is refused wherever it is, and no output format ever shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.config.secrets import redact, safe_value
from tests.config.helpers import SECRET, VALID, problems_of

PLACES = {
    "api_key literal": VALID.replace("{env: KLAVIYO_KEY}", SECRET),
    "api_key env name": VALID.replace("KLAVIYO_KEY", SECRET),
    "list_id": VALID.replace("list_id: AbC123", f"list_id: {SECRET}"),
    "enum value": VALID + f"mode: {SECRET}\n",
    "unknown key": VALID + f"{SECRET}: 1\n",
    "reference": VALID.replace("segment: all", f"segment: {SECRET}"),
    "kind": f"kind: {SECRET}\n",
    "comment": VALID + f"# old key: {SECRET}\n",
    "quoted escape": VALID + 'description: "' + SECRET.replace("0", "\\x30", 1) + '"\n',
    "in a list": "kind: Access\nadmins: [jane, " + SECRET + "]\n",
    "alias name": f"kind: Access\nadmins: [*{SECRET}]\n",
    "broken yaml": f"kind: Access\nadmins: [{SECRET}\n",
    "url": "kind: Source\nname: s\nurl: postgresql://u:" + SECRET + "@h/db\n",
}


@pytest.mark.parametrize("text", PLACES.values(), ids=PLACES.keys())
def test_literal_key_is_refused_and_never_echoed(text: str) -> None:
    problems = problems_of(text)
    assert "R024" in {p.code for p in problems}
    for problem in problems:
        assert SECRET not in problem.message + problem.hint
        assert SECRET[3:15] not in problem.message + problem.hint


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_no_output_format_shows_the_key(tmp_path: Path, output_format: str) -> None:
    for index, text in enumerate(PLACES.values()):
        (tmp_path / f"f{index}.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["validate", "--config-dir", str(tmp_path), "--format", output_format]
    )
    assert result.exit_code == 1
    assert "R024" in result.output
    assert SECRET not in result.output
    assert SECRET[3:15] not in result.output
    if output_format == "json":
        assert len(json.loads(result.output)) >= len(PLACES)


def test_values_that_look_like_emails_are_masked_in_messages() -> None:
    problems = problems_of(VALID.replace("list_id: AbC123", "list_id: jane.doe@contoso.com"))
    (problem,) = [p for p in problems if p.code == "R014"]
    assert "jane.doe@contoso.com" not in problem.message
    assert "j***e@contoso.com" in problem.message


def test_safe_value_and_redact() -> None:
    assert safe_value(SECRET) == ""
    assert safe_value("hunter2", "url") == ""
    assert safe_value("x" * 100).endswith("...'")
    assert safe_value(True) == "true" and safe_value(None) == "null" and safe_value(3) == "3"
    assert redact(f"a {SECRET} b jane@contoso.com") == "a pk_*** b j***@contoso.com"
    assert problems_of(VALID.replace("AbC123", "pk_short1")) != []  # too short to be a key
    assert "R024" not in {p.code for p in problems_of(VALID + "description: pk_short\n")}
