"""``reconciler validate`` through click: formats, exit codes, summary, help and version."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli.main import cli
from reconciler.cli.process import GC_THRESHOLDS
from tests.config.helpers import EXPORTS, VALID

TYPO = """\
kind: Export
name: typo
segment: all
connection: main
list-id: AbC124
fields:
  email: email
  frist_name: first
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def broken_dir(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "typo.yaml").write_text(TYPO, encoding="utf-8")
    (tmp_path / "w.yaml").write_text(
        "kind: Connection\nname: spare\napi_key: {env: SPARE}\n", encoding="utf-8"
    )
    return tmp_path


def test_example_exports_validate_clean() -> None:
    code, output = run("validate", "--config-dir", str(EXPORTS))
    assert code == 0
    assert "valid (1 Access, 1 Connection, 1 Source, 2 Segments, 2 Exports)" in output
    assert "error" not in output and "warning" not in output


def test_text_format_lists_every_problem_with_hint(tmp_path: Path) -> None:
    code, output = run("validate", "--config-dir", str(broken_dir(tmp_path)))
    assert code == 1
    lines = output.splitlines()
    typo = str(tmp_path / "typo.yaml")
    assert f"{typo}:5:1: error[R011]: unknown key `list-id`" in lines
    assert "  hint: did you mean `list_id`?" in lines
    assert f"{typo}:8:3: error[R011]: unknown key `frist_name` in `fields`" in lines
    assert any("warning[W002]" in line and "spare" in line for line in lines)
    assert "2 errors, 1 warning" in lines[-1]


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    text = VALID + "---\nkind: Connection\nname: spare\napi_key: {env: SPARE}\n"
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    code, output = run("validate", "--config-dir", str(tmp_path))
    assert code == 0
    assert "warning[W002]" in output
    assert output.splitlines()[-1].endswith(
        "valid (0 Access, 2 Connections, 1 Source, 1 Segment, 1 Export), 1 warning"
    )


def test_json_format(tmp_path: Path) -> None:
    code, output = run("validate", "--config-dir", str(broken_dir(tmp_path)), "--format", "json")
    assert code == 1
    items = json.loads(output)
    assert {tuple(sorted(item)) for item in items} == {
        ("code", "column", "file", "hint", "line", "message", "severity")
    }
    unknown = [i for i in items if i["code"] == "R011"]
    assert [(i["line"], i["column"], i["severity"]) for i in unknown] == [
        (5, 1, "error"),
        (8, 3, "error"),
    ]
    assert unknown[0]["hint"] == "did you mean `list_id`?"
    assert [i["severity"] for i in items if i["code"] == "W002"] == ["warning"]


def test_json_format_of_a_valid_config_is_an_empty_list() -> None:
    code, output = run("validate", "--config-dir", str(EXPORTS), "--format", "json")
    assert (code, json.loads(output)) == (0, [])


def test_github_format_annotates_lines(tmp_path: Path) -> None:
    code, output = run("validate", "--config-dir", str(broken_dir(tmp_path)), "--format", "github")
    assert code == 1
    typo = str(tmp_path / "typo.yaml").replace(":", "%3A").replace(",", "%2C")
    expected = (
        f"::error file={typo},line=5,col=1,title=R011::unknown key `list-id`"
        "%0Ahint: did you mean `list_id`?"
    )
    assert expected in output.splitlines()
    assert any(
        line.startswith("::warning file=") and "title=W002" in line for line in output.splitlines()
    )


def test_github_escaping() -> None:
    from reconciler.cli.cmd_validate import github_annotation
    from reconciler.errors import Problem

    problem = Problem("a,b:c.yaml", 3, 4, "R001", "50% broken\r\nhere", "fix, then: retry")
    assert github_annotation(problem) == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=R001::50%25 broken%0D%0Ahere"
        "%0Ahint: fix, then: retry"
    )


def test_missing_config_dir_is_a_clean_error(tmp_path: Path) -> None:
    code, output = run("validate", "--config-dir", str(tmp_path / "missing"))
    assert code == 1
    assert "error[R007]" in output and "does not exist" in output
    assert "Traceback" not in output


def test_default_config_dir_is_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "all.yaml").write_text(VALID, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, output = run("validate")
    assert code == 0
    assert output.startswith("exports: valid (")


def test_help_lists_validate_and_version_prints() -> None:
    code, output = run("--help")
    assert code == 0
    (line,) = [x for x in output.splitlines() if x.strip().startswith("validate ")]
    assert line.split(None, 1)[1] == "Check the YAML declarations and report every problem."
    code, output = run("--version")
    assert code == 0
    assert __version__ in output
    code, output = run("validate", "--help")
    assert code == 0
    assert "--config-dir" in output and "text|json|github" in output


def test_the_command_collects_cyclic_garbage_less_often() -> None:
    script = (
        "import gc, sys\n"
        "from reconciler.cli.main import main\n"
        "sys.argv = ['reconciler', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.get_threshold())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(GC_THRESHOLDS)
    assert GC_THRESHOLDS[0] > gc.get_threshold()[0]  # the test process keeps the default
