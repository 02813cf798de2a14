"""GitHub and editors: the workflow on Node 24 actions checked by actionlint, the composite
action, and the pre-commit hook."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "reconciler" / "templates" / "github-workflow.yml"
ACTION = REPO / "action.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
# the first majors of these actions whose runtime is Node 24 (GitHub removed Node 20 in 2026)
NODE24 = {"actions/checkout": 5, "actions/setup-python": 6}


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint is a test dependency (pip install -e '.[test]')"
    return found


def lint(*paths: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", "-oneline", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def uses(text: str) -> list[str]:
    return re.findall(r"uses:\s*([\w./-]+@[\w.-]+)", text)


@pytest.mark.parametrize("path", [TEMPLATE, ACTION], ids=["workflow", "action"])
def test_actions_run_on_node_24(path: Path) -> None:
    found = uses(path.read_text())
    assert found
    for ref in found:
        name, version = ref.split("@")
        if name in NODE24:
            assert int(version.lstrip("v")) >= NODE24[name], ref


def test_actionlint_passes_the_workflow_and_catches_a_broken_copy(tmp_path: Path) -> None:
    done = lint(TEMPLATE)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    text = TEMPLATE.read_text().replace("fetch-depth: 0", "fetch-deepth: 0", 1)
    broken.write_text(text.replace("setup-python@v6", "setup-python@v4", 1))
    failed = lint(broken)
    assert failed.returncode == 1
    assert 'input "fetch-deepth" is not defined' in failed.stdout
    assert "setup-python@v4" in failed.stdout and "too old" in failed.stdout


def test_a_workflow_using_the_composite_action_passes_actionlint(tmp_path: Path) -> None:
    # actionlint checks `uses: ./` against the inputs that action.yml declares
    shutil.copy(ACTION, tmp_path / "action.yml")
    workflow = tmp_path / ".github" / "workflows" / "uses-the-action.yml"
    workflow.parent.mkdir(parents=True)
    (tmp_path / ".git").mkdir()  # actionlint finds the project root (and ./action.yml) by it
    workflow.write_text(
        yaml.safe_dump(
            {
                "name": "uses the action",
                "on": {"pull_request": None},
                "permissions": {"contents": "read", "pull-requests": "write"},
                "jobs": {
                    "plan": {
                        "runs-on": "ubuntu-latest",
                        "steps": [
                            {"uses": "actions/checkout@v6", "with": {"fetch-depth": 0}},
                            {
                                "uses": "./",
                                "with": {
                                    "command": "plan",
                                    "config-dir": "exports",
                                    "version": "0.1.0",
                                },
                            },
                        ],
                    }
                },
            },
            sort_keys=False,
        )
    )
    good = lint(workflow, cwd=tmp_path)
    workflow.write_text(workflow.read_text().replace("config-dir:", "config-directory:"))
    bad = lint(workflow, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 1 and 'input "config-directory" is not defined' in bad.stdout


def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


def test_composite_action_inputs_and_sticky_comment() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert {"command", "config-dir", "version"} <= set(data["inputs"])
    assert data["inputs"]["command"]["default"] == "plan"
    scripts = "\n".join(s.get("run", "") for s in data["runs"]["steps"])
    assert "<!-- reconciler-plan -->" in scripts
    assert "--method PATCH" in scripts and "--method POST" in scripts
    assert "head -c 64000 plan.md" in scripts
    assert "reconciler plan --format markdown --detailed-exitcode" in scripts
    assert "${{" not in scripts  # inputs reach the scripts through env only


def test_composite_action_scripts_are_valid_bash(tmp_path: Path) -> None:
    for index, step in enumerate(s for s in action()["runs"]["steps"] if "run" in s):
        script = tmp_path / f"step{index}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, (step["name"], done.stderr)


def test_pre_commit_hook_runs_validate(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "reconciler-validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert re.search(hook["files"], "exports/vip.yaml") and re.search(hook["files"], "a.yml")
    program, *args = hook["entry"].split()
    assert program == "reconciler"
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    config = ["--config-dir", str(tmp_path / "exports")]
    assert CliRunner().invoke(cli, [*args, *config]).exit_code == 0
    (tmp_path / "exports" / "bad.yaml").write_text("kind: Export\nname: x\n")
    failed = CliRunner().invoke(cli, [*args, *config])
    assert failed.exit_code == 1 and "bad.yaml" in failed.output
