"""``runs`` fits 80 columns, ``runs show`` tells everything, refused plan files are journalled
with their reason (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Harness

LONG_ACTOR = "a-rather-long-actor-name.for-the-compact-layout@departments.contoso-example.com"


def runs_json(harness: Harness) -> list[dict[str, object]]:
    result = harness.run("runs", "--format", "json", "--state", str(harness.state))
    runs: list[dict[str, object]] = json.loads(result.stdout)
    return runs


def vip(harness: Harness, members: int = 40) -> None:
    harness.server.admin.seed("Y6nRLr", [f"old.{i}@example.com" for i in range(10)])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(members)])
    ws.add_export("vip-customers-to-klaviyo", "vip", "Y6nRLr", limits={"max_removals": "100%"})
    ws.write_config()


def test_runs_fits_80_columns_and_show_has_the_details(harness: Harness) -> None:
    vip(harness)
    applied = harness.run("apply", "--yes", "--force", "--actor", LONG_ACTOR)
    assert applied.exit_code == 0, applied.output
    listed = harness.run("runs", "--state", str(harness.state))
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, listed.stdout
    header, row = lines[0].split(), lines[1]
    assert header == ["STARTED", "(UTC)", "RUN", "OUTCOME", "CHANGES", "ACTOR"]
    assert "succeeded*" in row and "+40 -10" in row and "a-rather-long-actor-…" in row
    run_id = str(runs_json(harness)[0]["run_id"])
    assert run_id[:8] in row

    shown = harness.run("runs", "--state", str(harness.state), "show", run_id[:8])
    assert shown.exit_code == 0, shown.output
    assert f"run       {run_id}" in shown.stdout
    assert f"actor     {LONG_ACTOR}" in shown.stdout
    assert "vip-customers-to-klaviyo -> Y6nRLr (klaviyo): succeeded; added 40, removed 10" in (
        shown.stdout
    )
    assert "import jobs: " in shown.stdout

    unknown = harness.run("runs", "--state", str(harness.state), "show", "zzzz")
    assert unknown.exit_code == 1 and "no run" in unknown.stderr
    wide = harness.run("runs", "--wide", "--state", str(harness.state))
    assert "apply (forced)" in wide.stdout


def test_a_refused_stale_plan_file_is_journalled_with_its_reason(
    harness: Harness, tmp_path: Path
) -> None:
    vip(harness)
    plan_file = tmp_path / "plan.json"
    assert harness.run("plan", "--out", str(plan_file)).exit_code == 0
    harness.workspace.write_members("vip", [f"b.{i}@example.com" for i in range(40)])
    refused = harness.run("apply", str(plan_file), "--yes")
    assert refused.exit_code == 1
    assert "stale" in refused.stderr
    [run] = runs_json(harness)
    assert run["outcome"] == "failed"
    [record] = run["exports"]  # type: ignore[misc]
    assert record["outcome"] == "blocked"
    assert record["error"].startswith("plan file refused: the plan is stale")
    assert "segment content changed" in record["error"]


def test_a_refused_forced_plan_file_is_journalled_with_its_reason(
    harness: Harness, tmp_path: Path
) -> None:
    vip(harness)
    plan_file = tmp_path / "plan.json"
    assert harness.run("plan", "--force", "--out", str(plan_file)).exit_code == 0
    refused = harness.run("apply", str(plan_file), "--yes")
    assert refused.exit_code == 1
    [run] = runs_json(harness)
    [record] = run["exports"]  # type: ignore[misc]
    assert "plan file refused: the plan was made with --force" in record["error"]
