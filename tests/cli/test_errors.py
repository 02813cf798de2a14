"""The one error handler: an unexpected error is one masked line, exit 3; --debug re-raises."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main as cli_main
from reconciler.cli.main import cli
from reconciler.emails import mask_email


@click.command()
def explode() -> None:
    """A command with a bug: it raises an error the library never raises on purpose."""
    raise RuntimeError(
        "cannot encode jane.doe@example.com with key pk_abcdefghijklmnopqrstuvwxyz0123\n"
        "second line of detail"
    )


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setitem(cli_main.COMMANDS, "explode", "tests.cli.test_errors:explode")
    return CliRunner()


def test_an_unexpected_error_is_one_masked_line_and_exit_3(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["explode"])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    masked = mask_email("jane.doe@example.com")
    assert lines[0] == f"error: unexpected RuntimeError: cannot encode {masked} with key pk_***"
    assert "jane.doe" not in result.output and "pk_abcdefghij" not in result.output
    assert "second line" not in result.output
    assert "--debug" in lines[1]


def test_debug_re_raises_with_the_traceback(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--debug", "explode"])
    assert isinstance(result.exception, RuntimeError)
    assert result.exit_code == 1  # CliRunner's code for an exception that escaped


def test_a_reconciler_error_keeps_its_message_hint_and_code(tmp_path: object) -> None:
    result = CliRunner().invoke(cli, ["runs", "--state", "ftp://host/state"])
    assert result.exit_code == 1
    assert "error: unsupported state URL scheme 'ftp'" in result.stderr
    assert "hint: use postgresql://" in result.stderr
