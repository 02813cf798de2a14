"""Where the default state lives (issue 14, issue 17 item 15): at the root of the git
repository that holds the config (else in the config directory), printed by plan and apply,
private (0700/0600 whatever the umask), and never created by a read-only or failing command."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Harness
from tests.cli.helpers import files_under, init_repo, invoke


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def configure(harness: Harness, members: int = 20) -> None:
    harness.server.admin.seed("Y6nRLr", [])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(members)])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()


def test_a_subdirectory_with_config_dir_dotdot_uses_the_repository_state(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_repo(harness.workspace.root)
    configure(harness)
    sub = harness.workspace.config_dir / "data"
    monkeypatch.chdir(sub)
    applied = invoke(harness.server, "apply", "--yes", "--config-dir", "..")
    assert applied.exit_code == 0, applied.output
    expected = root / ".reconciler" / "state.db"
    assert f"state: {expected}" in applied.stderr
    assert expected.exists() and not (sub / ".reconciler").exists()

    monkeypatch.chdir(root)
    listed = invoke(harness.server, "runs", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [run["outcome"] for run in json.loads(listed.stdout)] == ["succeeded"]
    planned = invoke(harness.server, "plan", "--format", "json")
    assert planned.exit_code == 0, planned.output
    assert f"state: {expected}" in planned.stderr  # the same journal and cache


def test_outside_git_the_state_lives_in_the_config_directory(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(harness)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config_dir = str(harness.workspace.config_dir)
    planned = invoke(harness.server, "plan", "--config-dir", config_dir)
    assert planned.exit_code == 0, planned.output
    assert (harness.workspace.config_dir / ".reconciler" / "state.db").exists()
    assert files_under(elsewhere) == set()


def test_failing_and_read_only_commands_create_no_state(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(harness)
    (harness.workspace.config_dir / "broken.yaml").write_text("kind: Export\nname: [\n")
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    config_dir = str(harness.workspace.config_dir)
    failed = invoke(harness.server, "plan", "--config-dir", config_dir)
    assert failed.exit_code == 1
    for command in (
        ["audit", "--config-dir", config_dir, "--state", "nonexist.db"],
        ["runs", "--state", "nonexist.db"],
        ["runs", "--config-dir", config_dir],
    ):
        result = invoke(harness.server, *command)
        assert "Traceback" not in result.output
    assert files_under(tmp_path) == before


def test_runs_without_a_state_file_says_where_it_looked(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(harness.server, "runs", "--state", "nonexist.db")
    assert result.exit_code == 0, result.output
    assert "No runs recorded" in result.stdout and "no state file yet" in result.stdout
    assert not (tmp_path / "nonexist.db").exists()


def test_state_directory_0700_and_files_0600_under_umask_022(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    root = init_repo(harness.workspace.root)
    configure(harness)
    monkeypatch.chdir(root)
    applied = invoke(
        harness.server, "apply", "--yes", "--config-dir", str(harness.workspace.config_dir)
    )
    assert applied.exit_code == 0, applied.output
    state_dir = root / ".reconciler"
    modes = {
        str(p.relative_to(state_dir)): stat.S_IMODE(p.stat().st_mode)
        for p in [state_dir, *state_dir.rglob("*")]
    }
    assert modes.pop(".") == 0o700
    assert modes.pop("locks") == 0o700
    assert "state.db" in modes and any(name.endswith(".lock") for name in modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
