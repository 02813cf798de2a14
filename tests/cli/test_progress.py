"""Long waits are not silent (issue 14): a full read reports its progress, on a terminal as a
bar (with thousands separators), in a log as a line every few seconds."""

from __future__ import annotations

import re

from tests.cli.conftest import Harness
from tests.cli.ptyrun import PtyRun
from tests.e2e.conftest import TIME_SCALE
from tests.e2e.workspace import KEY_ENV, TEST_KEY, emails

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def big_list(harness: Harness) -> None:
    harness.server.admin.seed("Y6nRLr", emails("old", 2_500))
    ws = harness.workspace
    ws.write_members("vip", emails("old", 2_000) + emails("new", 1_500))
    ws.add_export("vip", "vip", "Y6nRLr", limits={"max_removals": "100%"})
    ws.write_config()


def test_a_full_read_reports_its_progress_in_a_log(harness: Harness) -> None:
    big_list(harness)
    result = harness.run("plan")
    assert result.exit_code == 0, result.output
    assert "reading list Y6nRLr: 0/2,500" in result.stderr
    assert "reading list Y6nRLr: 2,500/2,500" in result.stderr


def test_bars_on_a_terminal_have_thousands_separators(harness: Harness) -> None:
    big_list(harness)
    command = [
        "apply",
        "--yes",
        "--config-dir",
        str(harness.workspace.config_dir),
        "--base-url",
        harness.server.base_url,
        "--time-scale",
        str(TIME_SCALE),
        "--state",
        str(harness.state),
    ]
    run = PtyRun(command, {KEY_ENV: TEST_KEY}, cwd=harness.workspace.root)
    assert run.finish(timeout=60) == 0, run.output
    text = ANSI.sub("", run.output)
    assert "reading list Y6nRLr" in text
    assert re.search(r"vip: add\s.*1,500/1,500", text), text
    assert "/1500" not in text and "/2500" not in text
