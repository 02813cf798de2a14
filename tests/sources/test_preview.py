"""``preview_segment`` and ``reconciler segments preview`` over a real config directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.errors import SourceError
from reconciler.sources import UnknownSegmentError, preview_segment
from tests.sources.conftest import config, export, file_source, segment

PEOPLE = (
    "EmailAddress,ltv,contact\n"
    "jane@example.com,10,alt@example.com\n"
    " BOB@example.org ,20,other@example.com\n"
    "nope,30,\n"
    "jane@EXAMPLE.com,40,\n"
    "low@example.com,1,\n"
)
YAML = """\
kind: Source
name: profiles
files: {people: data/people.csv}
---
kind: Segment
name: vip
source: profiles
query: SELECT * FROM people WHERE ltv > 5
"""


@pytest.fixture()
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "exports"
    (directory / "data").mkdir(parents=True)
    (directory / "data" / "people.csv").write_text(PEOPLE)
    (directory / "segments.yaml").write_text(YAML)
    return directory


def _config(exports: bool = False):
    src = file_source("profiles", {"people": "data/people.csv"})
    seg = segment("vip", "profiles", query="SELECT * FROM people WHERE ltv > 5")
    return config([src], [seg], [export("e", "vip", email="contact")] if exports else [])


def test_preview_guesses_the_email_column(config_dir: Path) -> None:
    result = preview_segment(_config(), "vip", config_dir, limit=1)
    assert result.email_column == "EmailAddress"
    assert (result.rows, result.valid, result.invalid, result.duplicates) == (4, 2, 1, 1)
    assert result.samples == ("j***@example.com",)
    assert result.invalid_samples == ("n*** (not an email)",)
    assert result.duplicate_samples == ("j***@example.com",)
    assert result.columns == ("EmailAddress", "ltv", "contact")


def test_preview_uses_the_export_field_then_the_option(config_dir: Path) -> None:
    by_export = preview_segment(_config(exports=True), "vip", config_dir)
    assert by_export.email_column == "contact"
    assert (by_export.valid, by_export.invalid) == (2, 2)
    assert by_export.samples == ("a***@example.com", "o***r@example.com")
    chosen = preview_segment(_config(exports=True), "vip", config_dir, email_column="ltv")
    assert (chosen.email_column, chosen.valid, chosen.invalid) == ("ltv", 0, 4)


def test_preview_errors(config_dir: Path) -> None:
    with pytest.raises(UnknownSegmentError, match="segment 'gone' is not declared"):
        preview_segment(_config(), "gone", config_dir)
    with pytest.raises(SourceError, match="no column 'zzz'") as caught:
        preview_segment(_config(), "vip", config_dir, email_column="zzz")
    assert "EmailAddress, ltv, contact" in str(caught.value)
    assert "--email-column" in caught.value.hint


def test_cli_text(config_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["segments", "preview", "vip", "--config-dir", str(config_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "rows        4" in result.output
    assert "valid       2" in result.output
    assert "duplicates  1  (e.g. j***@example.com)" in result.output
    assert "columns     EmailAddress, ltv, contact" in result.output
    assert "b***@example.org" in result.output
    assert "jane@example.com" not in result.output and "bob@example.org" not in result.output


def test_cli_json(config_dir: Path) -> None:
    args = ["segments", "preview", "vip", "--config-dir", str(config_dir), "--format", "json"]
    result = CliRunner().invoke(cli, [*args, "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "segment": "vip",
        "rows": 4,
        "valid": 2,
        "invalid": 1,
        "duplicates": 1,
        "columns": ["EmailAddress", "ltv", "contact"],
        "samples": ["j***@example.com", "b***@example.org"],
    }


def test_cli_errors_are_clean(config_dir: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["segments", "preview", "gone", "--config-dir", str(config_dir)])
    assert unknown.exit_code == 1
    assert "segment 'gone' is not declared" in unknown.output
    assert "declared segments: vip" in unknown.output
    (config_dir / "data" / "people.csv").unlink()
    missing = runner.invoke(cli, ["segments", "preview", "vip", "--config-dir", str(config_dir)])
    assert missing.exit_code == 1
    assert "no file matches 'data/people.csv'" in missing.output
    assert "Traceback" not in missing.output
    assert isinstance(missing.exception, SystemExit)
