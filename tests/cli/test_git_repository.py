"""Every git look-up uses the repository that holds --config-dir, not the current directory's
(issue 17 item 6: an apply from outside the config repository recorded no commit and applied
an older configuration)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Harness
from tests.e2e.workspace import emails


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit_config(harness: Harness, members: list[str], message: str) -> str:
    ws = harness.workspace
    ws.write_members("vip", members)
    ws.write_config()
    git(ws.config_dir, "add", "-A")
    git(ws.config_dir, "commit", "-q", "-m", message)
    return git(ws.config_dir, "rev-parse", "HEAD")


def journal(harness: Harness) -> list[dict[str, object]]:
    result = harness.run("runs", "--format", "json", "--state", str(harness.state))
    runs: list[dict[str, object]] = json.loads(result.stdout)
    return runs


def test_apply_from_outside_the_repository_uses_the_config_repository(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = harness.workspace
    repo = ws.config_dir  # the repository is the config directory; the test runs beside it
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@contoso.com")
    git(repo, "config", "user.name", "Dev")
    harness.server.admin.seed("Y6nRLr", [])
    ws.add_export("vip", "vip", "Y6nRLr")
    older = commit_config(harness, emails("a", 20), "twenty")
    newer = commit_config(harness, emails("a", 30), "thirty")
    monkeypatch.chdir(tmp_path)  # not inside any git repository

    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    [run] = journal(harness)
    assert run["commit"] == newer  # was None: git ran in the current directory
    assert run["actor"] == "dev@contoso.com"  # the config repository's user.email

    git(repo, "checkout", "-q", older)
    refused = harness.run("apply", "--yes")
    assert refused.exit_code == 1, refused.output
    assert f"this checkout ({older[:12]}) is older than" in refused.stderr
    assert harness.members("Y6nRLr") == set(emails("a", 30))  # the older config not applied
