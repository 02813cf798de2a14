"""``reconciler audit`` end to end: a real repository, a real SQLite journal, three formats."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.state import open_state
from reconciler.state.records import ExportRecord, RunStart
from tests.audit.conftest import Story


@pytest.fixture()
def in_repo(story: Story) -> Iterator[Path]:
    before = Path.cwd()
    os.chdir(story.repo.path)
    try:
        yield story.repo.path
    finally:
        os.chdir(before)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


def journal_with_one_run(path: Path) -> str:
    moment = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    with open_state(str(path)) as state:
        run_id = state.journal.start_run(
            RunStart(actor="ci-bot", commit="abc123", plan_checksum=None, command="apply",
                     forced=False)
        )  # fmt: skip
        record = ExportRecord(
            export="vip-to-klaviyo",
            list_id="AbC123",
            connection="klaviyo-marketing",
            added=7,
            removed=2,
            failed=0,
            job_ids=(),
            guards_forced=(),
            started_at=moment,
            finished_at=moment,
            outcome="succeeded",
        )
        state.journal.record_export(run_id, record)
        state.journal.finish_run(run_id, "succeeded")
    return run_id


def test_json_with_last_runs_from_the_journal(in_repo: Path, story: Story) -> None:
    run_id = journal_with_one_run(in_repo / "state.db")
    result = run("--format", "json", "--state", str(in_repo / "state.db"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    entries = {(e["kind"], e["name"]): e for e in data["entries"]}
    export = entries[("Export", "vip-to-klaviyo")]
    assert export["created_by"] == "jane@contoso.com"
    assert export["enabled_commit"] == story.commits["enable"]
    assert [r["run_id"] for r in export["last_runs"]] == [run_id]
    assert export["last_runs"][0]["exports"][0]["added"] == 7
    assert entries[("Connection", "klaviyo-marketing")]["last_runs"][0]["run_id"] == run_id
    assert data["notes"] and "invalid" in data["notes"][0]


def test_table(in_repo: Path, story: Story) -> None:
    result = run("--export", "vip-to-klaviyo")
    assert result.exit_code == 0, result.output
    assert "KIND" in result.output and "vip-to-klaviyo" in result.output
    assert "MISMATCH" in result.output
    assert f"by mark@contoso.com (commit {story.commits['enable'][:10]})" in result.output
    assert f"set in commit {story.commits['consent'][:10]} by eve@contoso.com" in result.output
    assert 'mode: "mirror" -> "add_only"' in result.output
    assert "no run journal" in result.output
    assert "Access" not in result.output.split("\n\n")[1]  # filtered to export + connection


def test_markdown(in_repo: Path, story: Story) -> None:
    result = run("--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("## Audit of `exports`")
    assert "### Export `vip-to-klaviyo`" in result.output
    assert '| list_id | "Y6nRLr" | "AbC123" |' in result.output


def test_unknown_export_is_a_clean_error(in_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", "--export", "nope"])
    assert result.exit_code == 1
    assert "no export named 'nope'" in result.output
    assert "Traceback" not in result.output


def test_outside_git_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    result = CliRunner().invoke(cli, ["audit", "--config-dir", str(tmp_path / "exports")])
    assert result.exit_code == 1
    assert "not inside a git repository" in result.output
    assert "hint:" in result.output
    assert "Traceback" not in result.output
