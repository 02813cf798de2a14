"""Small newcomer findings of issue 14: audit --runs 0, the demo above the example's cap."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.main import cli
from tests.cli.conftest import Harness
from tests.cli.helpers import git, init_repo

ROOT = Path(__file__).resolve().parents[2]


def test_audit_runs_0_shows_no_runs_as_its_help_says(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(harness.workspace.root)
    harness.server.admin.seed("Y6nRLr", [])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "vip")
    assert harness.run("apply", "--yes").exit_code == 0
    monkeypatch.chdir(repo)
    state = ["--state", str(harness.state)]
    none = harness.run("audit", "--runs", "0", "--format", "json", *state)
    assert none.exit_code == 0, none.output
    assert "limit must be at least 1" not in none.output
    one = harness.run("audit", "--runs", "1", "--format", "json", *state)
    assert one.exit_code == 0, one.output
    assert '"last_runs": []' not in one.stdout.replace("\n", "").replace("  ", "")
    help_text = CliRunner().invoke(cli, ["audit", "--help"]).output
    assert "0<=x<=100" in help_text and "0 shows none" in help_text


def test_the_demo_converges_above_the_examples_max_profiles(tmp_path: Path) -> None:
    """The example's cap scaled down (max_profiles 50, below the 88 VIPs of 400 profiles)."""
    example = tmp_path / "example"
    shutil.copytree(ROOT / "exports", example)
    path = example / "exports.yaml"
    docs = list(yaml.safe_load_all(path.read_text()))
    for doc in docs:
        if doc.get("kind") == "Export" and "limits" in doc:
            doc["limits"]["max_profiles"] = 50
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    result = CliRunner().invoke(
        cli, ["demo", "--profiles", "400", "--time-scale", "200", "--config-dir", str(example)]
    )
    assert result.exit_code == 0, result.output
    assert "all lists match their segments" in result.output
    assert "limits.max_profiles raised to 400 in the demo's copy" in result.output
    assert yaml.safe_load_all(path.read_text())  # the example itself is untouched
    assert "max_profiles: 50" in path.read_text()
