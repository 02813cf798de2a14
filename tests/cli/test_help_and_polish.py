"""Help and polish of issue 14: every command's --help has a description, a paragraph and two
examples; the command list is not cut; messages read well (short SHAs, no '.;', absolute
paths); the workflow's comment does not repeat the plan's own title and marker."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import COMMANDS, cli
from tests.cli.conftest import Harness
from tests.cli.helpers import git, init_repo
from tests.e2e.workspace import KEY_ENV

ROOT = Path(__file__).resolve().parents[2]
COMMAND_PATHS = [[name] for name in COMMANDS] + [["segments", "preview"], ["runs", "show"]]
# commands that read declarations (or find the default state through them)
WITH_CONFIG_DIR = set(COMMANDS) - {"sandbox", "init"}


def help_of(*path: str) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=[" ".join(p) for p in COMMAND_PATHS])
def test_every_command_has_a_description_a_paragraph_and_two_examples(path: list[str]) -> None:
    text = help_of(*path)
    body = text.split("\n\n", 1)[1].split("Options:")[0]
    paragraphs = [p for p in body.split("\n\n") if p.strip() and "Examples:" not in p]
    assert len(paragraphs) >= 2, text  # the one-line description and at least one paragraph
    examples = re.findall(r"^\s+reconciler \S", text, flags=re.M)
    assert len(examples) >= 2, text
    if path[0] in WITH_CONFIG_DIR and path not in (["runs", "show"], ["segments"]):
        assert "--config-dir" in text, path


def test_the_command_list_is_not_cut() -> None:
    text = help_of()
    commands = text.split("Commands:")[1]
    assert "..." not in commands
    assert "Audit trail of every connection and export, from git history and the run" in (
        " ".join(commands.split())
    )


def test_the_workflow_comment_has_one_title_and_one_marker(tmp_path: Path) -> None:
    """Run the workflow's comment step on a plan's markdown and on an empty failure."""
    template = (ROOT / "reconciler" / "templates" / "github-workflow.yml").read_text()
    step = template.split("- name: Post or update the plan comment")[1]
    script = step.split("run: |\n")[1].split("comment_id=")[0]
    script = "\n".join(line[10:] for line in script.splitlines())
    plan_md = "<!-- reconciler-plan -->\n## Reconciler plan\n\nPlan: 1 to add."
    for content, titles in ((plan_md, ["## Reconciler plan"]), ("", ["### reconciler plan"])):
        (tmp_path / "plan.md").write_text(content)
        subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True, env={"EXIT_CODE": "1"})
        comment = (tmp_path / "comment.md").read_text()
        assert comment.count("<!-- reconciler-plan -->") == 1, comment
        assert [line for line in comment.splitlines() if line.startswith("#")] == [
            t + (" (exit code 1)" if t.startswith("###") else "") for t in titles
        ]


def test_configuration_changes_name_the_base_by_a_short_sha(harness: Harness) -> None:
    repo = init_repo(harness.workspace.root)
    harness.server.admin.seed("Y6nRLr", [])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    base = git(repo, "rev-parse", "HEAD")
    ws.exports[0]["description"] = "changed"
    ws.write_config()
    result = harness.run("plan", "--base", base)
    assert result.exit_code == 0, result.output
    assert f"Configuration changes since {base[:12]}:" in result.stdout
    assert base not in result.stdout


def test_a_key_of_no_account_reads_well(harness: Harness) -> None:
    harness.server.admin.seed("Y6nRLr", [])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    args = ["plan", "--config-dir", str(ws.config_dir), "--base-url", harness.server.base_url]
    result = CliRunner().invoke(
        cli, [*args, "--state", str(harness.state)], env={KEY_ENV: "pk_" + "0" * 34}
    )
    assert "this account" in result.output
    assert ".;" not in result.output


def test_a_missing_file_names_the_absolute_directory(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    (ws.config_dir / "data" / "vip.csv").unlink()
    monkeypatch.chdir(ws.config_dir)
    result = CliRunner().invoke(cli, ["segments", "preview", "vip-segment", "--config-dir", "."])
    assert result.exit_code == 1
    assert f"looked in {ws.config_dir})" in result.output
