"""``validate --sources`` checks each enabled export's mapped columns against its segment."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "exports"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.output


def test_example_columns_exist() -> None:
    code, output = run("--sources", "--config-dir", str(EXAMPLE))
    assert code == 0, output


def test_missing_mapped_column_is_located_and_named(tmp_path: Path) -> None:
    config = tmp_path / "exports"
    shutil.copytree(EXAMPLE, config)
    path = config / "exports.yaml"
    path.write_text(
        path.read_text().replace("  first_name: first_name", "  first_name: given_name", 1)
    )
    code, output = run("--config-dir", str(config))
    assert code == 0
    code, output = run("--sources", "--config-dir", str(config))
    assert code == 1
    assert "exports.yaml:" in output and "error[R031]" in output
    assert "fields.first_name -> 'given_name'" in output
    assert "first_name" in output.split("columns are:")[1]


def test_unreadable_source_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "exports"
    shutil.copytree(EXAMPLE, config)
    (config / "data" / "profiles.csv").unlink()
    code, output = run("--sources", "--config-dir", str(config))
    assert code == 1
    assert "error[R032]" in output and "profiles" in output


def test_a_file_problem_is_located_at_the_source(tmp_path: Path) -> None:
    config = tmp_path / "exports"
    shutil.copytree(EXAMPLE, config)
    data = config / "data" / "profiles.csv"
    data.write_text(data.read_text().replace(",", ";"))
    code, output = run("--sources", "--config-dir", str(config))
    assert code == 1
    assert "sources.yaml:4:" in output and "error[R032]" in output
    assert "looks semicolon-separated" in output
    assert 'add `delimiter: ";"`' in output


def test_an_encoding_that_is_no_character_set_fails_validate_at_the_source(
    tmp_path: Path,
) -> None:
    config = tmp_path / "exports"
    shutil.copytree(EXAMPLE, config)
    path = config / "sources.yaml"
    path.write_text(path.read_text() + "encoding: base64\n")
    for args in (("--config-dir", str(config)), ("--sources", "--config-dir", str(config))):
        code, output = run(*args)
        assert code == 1
        assert "sources.yaml:8:" in output and "error[R033]" in output
        assert "Traceback" not in output
