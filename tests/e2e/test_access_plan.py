"""plan enforces the Access rules on the changes since the git base."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.e2e.conftest import Harness
from tests.e2e.workspace import emails


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


def test_contributor_change_to_admin_only_export_fails_plan_admin_passes(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    ws.write_members("vip", emails("a", 5))
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

    refused = harness.run("plan", "--base", "main", "--actor", "mark@contoso.com")
    assert refused.exit_code == 1
    assert "mark@contoso.com" in refused.stderr and "vip" in refused.stderr
    assert "Access.admins" in refused.stderr or "admin" in refused.stderr

    harness.server.admin.seed("Zz9Yy8", [])
    allowed = harness.run(
        "plan", "--base", "main", "--actor", "jane@contoso.com", "--format", "json"
    )
    assert allowed.exit_code == 0, allowed.output
    assert '"action": "changed"' in allowed.stdout
    assert "list_id" in allowed.stdout
