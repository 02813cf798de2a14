"""Refusals and errors are rendered in every output format (issue 14): an access refusal has a
hint, and with --format markdown (a pull-request comment) or json stdout says what happened
instead of being empty."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.cli.conftest import Harness


def git(root: Path, *args: str, author: str = "jane@contoso.com") -> None:
    env = {
        "GIT_AUTHOR_NAME": author.split("@")[0],
        "GIT_AUTHOR_EMAIL": author,
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@contoso.com",
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
    }
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)


def contributor_retargets_an_export(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr")
    config = ws.write_config()
    access = {
        "kind": "Access",
        "admins": ["jane@contoso.com"],
        "contributors": ["mark@contoso.com"],
    }
    (config / "access.yaml").write_text(yaml.safe_dump(access))
    git(ws.root, "init", "-q", "-b", "main")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-qm", "initial")
    git(ws.root, "checkout", "-qb", "change")
    text = (config / "exports.yaml").read_text().replace("Y6nRLr", "Zz9Yy8")
    (config / "exports.yaml").write_text(text)
    git(ws.root, "commit", "-qam", "retarget", author="mark@contoso.com")


def test_an_access_refusal_has_a_hint_in_every_format(harness: Harness) -> None:
    contributor_retargets_an_export(harness)
    actor = ["--base", "main", "--actor", "mark@contoso.com"]

    text = harness.run("plan", *actor)
    assert text.exit_code == 1
    assert "hint: if the change is yours to make" in text.stderr
    assert "--actor" in text.stderr and "Access.admins" in text.stderr

    markdown = harness.run("plan", "--format", "markdown", *actor)
    assert markdown.exit_code == 1
    assert markdown.stdout.startswith("### reconciler: AccessError")
    assert "access rules broken" in markdown.stdout and "hint: if the change" in markdown.stdout

    as_json = harness.run("plan", "--format", "json", *actor)
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert error["kind"] == "AccessError" and "--actor" in error["hint"]
    assert error["exit_code"] == 1


def test_configuration_errors_reach_a_markdown_comment(harness: Harness) -> None:
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr", mode="sideways")
    ws.write_config()
    result = harness.run("plan", "--format", "markdown")
    assert result.exit_code == 1
    assert result.stdout.startswith("### reconciler: ConfigError")
    assert "exports.yaml:" in result.stdout and "mode" in result.stdout
