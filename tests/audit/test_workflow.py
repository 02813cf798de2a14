"""The shipped GitHub Actions workflow: triggers, concurrency, history, commands, permissions."""

from __future__ import annotations

import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "reconciler" / "templates" / "github-workflow.yml"
COPY = REPO / ".github" / "workflows" / "reconcile.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(TEMPLATE.read_text())
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(on, dict)
    return on


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def scripts(workflow: dict[Any, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(workflow))


def test_template_is_package_data_and_the_repo_copy_is_identical() -> None:
    shipped = resources.files("reconciler") / "templates" / "github-workflow.yml"
    assert shipped.read_text() == TEMPLATE.read_text()
    assert COPY.read_text() == TEMPLATE.read_text()
    assert "templates/*.yml" in (REPO / "pyproject.toml").read_text()


def test_triggers(workflow: dict[Any, Any]) -> None:
    on = triggers(workflow)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    assert on["schedule"] == [{"cron": "*/15 * * * *"}]


def test_concurrency_per_job_so_nothing_queued_is_dropped(workflow: dict[Any, Any]) -> None:
    # GitHub keeps one pending run per group and cancels the older one: a scheduled run must
    # never replace a queued plan of a pull request or a queued apply of main.
    assert "concurrency" not in workflow
    jobs = workflow["jobs"]
    groups = {name: job["concurrency"] for name, job in jobs.items()}
    assert groups["plan"] == {
        "group": "reconciler-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    assert groups["apply"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    assert groups["scheduled"] == {"group": "reconciler-scheduled", "cancel-in-progress": False}
    # applies and scheduled runs may overlap: they wait for each other's list locks
    for name in ("apply", "scheduled"):
        steps = " ".join(str(step.get("run", "")) for step in jobs[name]["steps"])
        assert "--lock-timeout 1800" in steps


def test_minimal_permissions(workflow: dict[Any, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for job in workflow["jobs"].values():
        assert "permissions" not in job


def test_full_history_and_python_311_in_every_job(workflow: dict[Any, Any]) -> None:
    for name, job in workflow["jobs"].items():
        uses = {s.get("uses", "").split("@")[0]: s for s in job["steps"]}
        assert uses["actions/checkout"]["with"]["fetch-depth"] == 0, name
        assert uses["actions/setup-python"]["with"]["python-version"] == "3.11", name


def test_jobs_run_on_their_events(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    assert "pull_request" in jobs["plan"]["if"]
    assert "push" in jobs["apply"]["if"]
    assert "schedule" in jobs["scheduled"]["if"]
    run = {name: "\n".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
    assert "reconciler validate --format github" in run["plan"]
    assert "reconciler plan --format markdown --detailed-exitcode > plan.md" in run["plan"]
    assert "reconciler apply --yes" in run["apply"]
    assert "reconciler apply --due --yes" in run["scheduled"]
    assert "reconciler apply" not in run["plan"]


def test_sticky_plan_comment(workflow: dict[Any, Any]) -> None:
    text = scripts(workflow)
    assert "<!-- reconciler-plan -->" in text
    assert "--method PATCH" in text and "--method POST" in text
    assert "head -c 64000 plan.md" in text  # stays under GitHub's 65,536-character limit


def test_secrets_come_from_the_secret_store(workflow: dict[Any, Any]) -> None:
    env = workflow["env"]
    assert env["RECONCILER_STATE"] == "${{ secrets.RECONCILER_STATE }}"
    keys = [k for k in env if k.endswith("_API_KEY")]
    assert keys and all(env[k] == f"${{{{ secrets.{k} }}}}" for k in keys)
    # untrusted event data never lands inside a shell script
    assert "${{" not in scripts(workflow)


def test_scripts_are_valid_bash(workflow: dict[Any, Any], tmp_path: Path) -> None:
    for index, step in enumerate(s for s in steps(workflow) if "run" in s):
        script = tmp_path / f"step{index}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, (step["name"], done.stderr)
