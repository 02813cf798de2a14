"""``reconciler runs`` and ``reconciler force-unlock`` through click's runner."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.state import ExportRecord, RunStart, SqlStateBackend

T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def journal(backend: SqlStateBackend) -> list[str]:
    ids = []
    for i, export in enumerate(("vip-to-klaviyo", "churn-to-klaviyo")):
        run_id = backend.journal.start_run(RunStart("octocat", f"c0mmit{i}", None, "apply", i == 1))
        backend.journal.record_export(
            run_id,
            ExportRecord(
                export, f"LIST{i}", "klaviyo", 5 + i, 1, 0, (f"job-{i}",), (), T0, T0, "succeeded"
            ),
        )
        backend.journal.finish_run(run_id, "succeeded")
        ids.append(run_id)
    return ids


def test_runs_empty(state_url: str) -> None:
    result = CliRunner().invoke(cli, ["runs", "--state", state_url])
    assert result.exit_code == 0, result.output
    assert "No runs recorded" in result.output


def test_runs_table_and_filters(backend: SqlStateBackend, state_url: str) -> None:
    first, second = journal(backend)
    result = CliRunner().invoke(cli, ["runs", "--wide", "--state", state_url])
    assert result.exit_code == 0, result.output
    assert first[:8] in result.output and second[:8] in result.output
    assert "vip-to-klaviyo -> LIST0: +5 -1 !0 succeeded" in result.output
    assert "apply (forced)" in result.output
    assert result.output.index(second[:8]) < result.output.index(first[:8])  # newest first

    only = CliRunner().invoke(cli, ["runs", "--state", state_url, "--export", "vip-to-klaviyo"])
    assert first[:8] in only.output and second[:8] not in only.output
    limited = CliRunner().invoke(cli, ["runs", "--state", state_url, "--limit", "1"])
    assert second[:8] in limited.output and first[:8] not in limited.output


def test_runs_json(backend: SqlStateBackend, state_url: str) -> None:
    first, second = journal(backend)
    result = CliRunner().invoke(
        cli, ["runs", "--format", "json"], env={"RECONCILER_STATE": state_url}
    )
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert [r["run_id"] for r in runs] == [second, first]
    assert runs[0]["exports"][0]["job_ids"] == ["job-1"]
    assert runs[0]["forced"] is True and runs[1]["commit"] == "c0mmit0"


def test_runs_bad_options(state_url: str) -> None:
    result = CliRunner().invoke(cli, ["runs", "--state", state_url, "--limit", "0"])
    assert result.exit_code == 2 and "--limit" in result.output
    result = CliRunner().invoke(cli, ["runs", "--state", "ftp://nope"])
    assert result.exit_code == 1
    assert "unsupported state URL scheme" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_force_unlock_asks_first(backend: SqlStateBackend, state_url: str) -> None:
    key = "acct-9/Y6nRLr"
    with backend.locks.lock_list(key, "stuck-run", timeout=0):
        refused = CliRunner().invoke(cli, ["force-unlock", key, "--state", state_url], input="n\n")
        assert refused.exit_code == 1
        assert "stuck-run" in refused.output and "Left the lock" in refused.output
        assert backend.locks.lock_holder(key) is not None

        agreed = CliRunner().invoke(cli, ["force-unlock", key, "--state", state_url], input="y\n")
        assert agreed.exit_code == 0, agreed.output
        assert f"Unlocked {key}" in agreed.output
        assert backend.locks.lock_holder(key) is None


def test_force_unlock_by_bare_list_id_with_yes(backend: SqlStateBackend, state_url: str) -> None:
    with backend.locks.lock_list("acct-9/ABC123", "stuck", timeout=0):
        result = CliRunner().invoke(cli, ["force-unlock", "ABC123", "--yes", "--state", state_url])
        assert result.exit_code == 0, result.output
        assert "Unlocked acct-9/ABC123" in result.output
        assert backend.locks.lock_holder("acct-9/ABC123") is None
    missing = CliRunner().invoke(cli, ["force-unlock", "NOPE", "-y", "--state", state_url])
    assert missing.exit_code == 1 and "no lock is held on a list with id NOPE" in missing.output
    nothing = CliRunner().invoke(cli, ["force-unlock", "a/NOPE", "-y", "--state", state_url])
    assert nothing.exit_code == 0 and "Nothing to unlock for a/NOPE" in nothing.output
