"""apply --due says what it skipped and when each is next due; a schedule that never fires is
refused by validate (R028), and a schedule that cannot be evaluated at run time blocks only
its own export (issue 14, issue 17 item 7)."""

from __future__ import annotations

import datetime as dt

from reconciler.config import load_config
from reconciler.engine.options import RunOptions
from reconciler.engine.selection import selection
from reconciler.state import open_state
from tests.cli.conftest import Harness


def two_exports(harness: Harness, schedule: str = "0 */6 * * *") -> None:
    for list_id in ("Y6nRLr", "Xk3Pq9"):
        harness.server.admin.seed(list_id, [])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(5)])
    ws.add_export("vip", "vip", "Y6nRLr", schedule=schedule)
    ws.add_export("news", "vip", "Xk3Pq9")  # no schedule: always due
    ws.write_config()


def test_apply_due_names_the_skipped_exports_and_when_they_are_next_due(
    harness: Harness,
) -> None:
    two_exports(harness)
    assert harness.run("apply", "--yes").exit_code == 0
    again = harness.run("apply", "--yes", "--due")
    assert again.exit_code == 0, again.output
    last = dt.datetime.now(dt.UTC)
    next_due = last.replace(minute=0, second=0, microsecond=0)
    next_due += dt.timedelta(hours=6 - next_due.hour % 6)
    assert f"vip: skipped, not due (next due {next_due:%Y-%m-%d %H:%M} UTC)" in again.stdout
    assert "news -> Xk3Pq9: unchanged" in again.stdout


def test_a_schedule_that_never_fires_is_refused_by_validate(harness: Harness) -> None:
    two_exports(harness, schedule="0 0 30 2 *")
    result = harness.run("validate")
    assert result.exit_code == 1
    assert "error[R028]: `schedule` '0 0 30 2 *' is never due" in result.stdout


def test_a_schedule_failing_at_run_time_blocks_only_its_export(harness: Harness) -> None:
    """A configuration that reached the run without validate (changed in memory here), after
    both exports succeeded once: the broken schedule is evaluated and fails."""
    two_exports(harness)
    assert harness.run("apply", "--yes").exit_code == 0
    config = load_config(harness.workspace.config_dir)
    broken = config.exports["vip"].model_copy(update={"schedule": "0 0 30 2 *"})
    config = config.model_copy(update={"exports": {**config.exports, "vip": broken}})
    options = RunOptions(config_dir=harness.workspace.config_dir, due_only=True)
    with open_state(str(harness.state)) as state:
        chosen = selection(config, options, state)
    assert [e.name for e in chosen.exports] == ["news", "vip"]  # news is not held back
    assert list(chosen.broken) == ["vip"] and "0 0 30 2 *" in chosen.broken["vip"]
