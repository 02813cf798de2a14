"""Ctrl-C and SIGTERM at any moment of plan and apply print one message and nothing else
(issue 14): the real command in a real pseudo-terminal, real signals (a Ctrl-C written to the
terminal, SIGTERM and SIGINT sent to the process), a sandbox over a real socket.

Each case waits for a moment of the run (a delay while Python loads, a line of output, a number
of requests the sandbox has served, an import job submitted), interrupts it there, and checks:
the exit code is 128 + the signal; after the interruption nothing is printed but the one
message (no traceback, no "Exception ignored", no "Task was destroyed"); an apply that had
started is journalled ``interrupted``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.cli.ptyrun import ROOT, PtyRun
from tests.e2e.conftest import TIME_SCALE
from tests.e2e.workspace import KEY_ENV, TEST_KEY, Workspace, emails

LIST = "In7rPt"
KEEP, DROP, NEW = 4_000, 1_500, 3_000
READ = "GET /api/lists/{id}/profiles"
REMOVE = "DELETE /api/lists/{id}/relationships/profiles"
# Profiles per virtual second: at time scale 60 the 3,000 new profiles take about 2 s.
IMPORT_RATE = 25.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
NOISE = (
    "Traceback",
    "Exception ignored",
    "Task was destroyed",
    "AsyncLibraryNotFoundError",
    "coroutine",
    "Aborted",
    "RuntimeError",
    "KeyboardInterrupt",
)
# What may follow the interruption: the message, its export lines and hint, the terminal's
# echo of ^C, and the last refresh of a progress bar.
ALLOWED = re.compile(
    r"^(\^C)*\s*$"
    r"|^(\^C)*(error: )?(apply )?interrupted by SIG(INT|TERM)\b"
    r"|^  \S+ -> \S+: "
    r"|^  hint: "
    r"|━"
)


@pytest.fixture(scope="module")
def interrupt_sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(api_keys=(TEST_KEY,), time_scale=TIME_SCALE, import_rate=IMPORT_RATE)
    with SandboxServer(config) as server:
        yield server


Trigger = Callable[[PtyRun, SandboxServer], bool]


def after(seconds: float) -> Trigger:
    """``seconds`` after the interpreter reached the entry module (see :func:`interpreter_start`):
    no program can handle a signal before its first line runs."""
    return lambda run, server: run.poll() is None and _elapsed(run) >= interpreter_start() + seconds


@functools.cache
def interpreter_start() -> float:
    """How long Python takes here to start and import ``reconciler.cli`` (the slowest of three
    starts, and half again): 0.2 s was inside the interpreter's own start on a slow machine."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    took = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import reconciler.cli"], env=env, check=True)
        took.append(time.monotonic() - started)
    return 1.5 * max(took)


def _elapsed(run: PtyRun) -> float:
    return time.monotonic() - run.started


def printed(text: str) -> Trigger:
    return lambda run, server: text in run.output


def served(endpoint: str, count: int) -> Trigger:
    return lambda run, server: _requests(server, endpoint) >= count


def jobs_done(count: int) -> Trigger:
    """``count`` import jobs submitted and every removal sent: the apply waits for the jobs."""

    def check(run: PtyRun, server: SandboxServer) -> bool:
        stats = server.admin.stats()
        removals = int(stats["requests"].get(REMOVE, 0))
        return int(stats["bulk_jobs"]) >= count and removals >= 1 and "remove" in run.output

    return check


def _requests(server: SandboxServer, endpoint: str) -> int:
    return int(server.admin.stats()["requests"].get(endpoint, 0))


@dataclass(frozen=True)
class Case:
    id: str
    command: str  # "apply" (with --yes), "prompt" (apply at its prompt), "plan"
    trigger: Trigger
    action: str  # "ctrl-c", "SIGTERM", "SIGINT", "ctrl-c twice"
    latency_ms: int = 0  # every sandbox request takes this long (stretches the full read)
    extra_members: int = 0  # more list members (a long, CPU-bound full read)

    @property
    def signum(self) -> int:
        return signal.SIGTERM if self.action == "SIGTERM" else signal.SIGINT


CASES = [
    # loading: Python imports, the command starts, the config is read
    *(
        Case(f"loading-{t}s-{a}", "apply", after(t), a)
        for t in (0.2, 0.5, 0.9)
        for a in ("ctrl-c", "SIGTERM")
    ),
    # planning starts: the state is open, connections are verified
    Case("planning-start-ctrl-c", "apply", printed("state: "), "ctrl-c"),
    Case("planning-start-SIGTERM", "apply", printed("state: "), "SIGTERM"),
    # the full read of the list (slowed down so that it takes a while)
    *(
        Case(f"full-read-page-{n}-{a}", "apply", served(READ, n), a, latency_ms=40)
        for n in (1, 8)
        for a in ("ctrl-c", "SIGTERM", "SIGINT")
    ),
    # a long full read that keeps the command busy parsing pages (where a signal used to
    # land inside the event loop's own code)
    Case("long-read-page-30-ctrl-c", "apply", served(READ, 30), "ctrl-c", extra_members=30_000),
    Case("long-read-page-150-SIGTERM", "apply", served(READ, 150), "SIGTERM", extra_members=30_000),
    Case("plan-full-read-ctrl-c", "plan", served(READ, 4), "ctrl-c", latency_ms=40),
    Case("plan-full-read-SIGTERM", "plan", served(READ, 4), "SIGTERM", latency_ms=40),
    # at the confirmation prompt
    Case("prompt-ctrl-c", "prompt", printed("Apply these changes?"), "ctrl-c"),
    Case("prompt-SIGTERM", "prompt", printed("Apply these changes?"), "SIGTERM"),
    # sending: the first import job is submitted, the removals are on their way
    Case("sending-ctrl-c", "apply", served("POST /api/profile-bulk-import-jobs", 1), "ctrl-c"),
    Case("sending-SIGTERM", "apply", served("POST /api/profile-bulk-import-jobs", 1), "SIGTERM"),
    Case("sending-ctrl-c-twice", "apply", served(REMOVE, 1), "ctrl-c twice"),
    # everything is sent: waiting for the import job to finish
    Case("waiting-for-jobs-ctrl-c", "apply", jobs_done(1), "ctrl-c"),
    Case("waiting-for-jobs-SIGTERM", "apply", jobs_done(1), "SIGTERM"),
    Case("waiting-for-jobs-ctrl-c-twice", "apply", jobs_done(1), "ctrl-c twice"),
]


@dataclass
class Rig:
    server: SandboxServer
    workspace: Workspace
    state: Path

    def start(self, case: Case) -> PtyRun:
        command = ["plan"] if case.command == "plan" else ["apply"]
        if case.command == "apply":
            command.append("--yes")
        command += [
            "--config-dir",
            str(self.workspace.config_dir),
            "--base-url",
            self.server.base_url,
            "--time-scale",
            str(TIME_SCALE),
            "--state",
            str(self.state),
            "--actor",
            "interrupt-suite",
        ]
        return PtyRun(command, {KEY_ENV: TEST_KEY}, cwd=self.workspace.root)

    def runs(self) -> list[dict[str, object]]:
        if not self.state.exists():
            return []
        result = CliRunner().invoke(cli, ["runs", "--format", "json", "--state", str(self.state)])
        assert result.exit_code == 0, result.output
        runs: list[dict[str, object]] = json.loads(result.stdout)
        return runs


@pytest.fixture
def rig(interrupt_sandbox: SandboxServer, tmp_path: Path) -> Iterator[Rig]:
    server = interrupt_sandbox
    server.admin.reset()
    server.admin.seed(LIST, emails("kept", KEEP) + emails("gone", DROP))
    ws = Workspace(tmp_path)
    ws.write_members("seg", emails("kept", KEEP) + emails("new", NEW))
    ws.add_export("vip", "seg", LIST, limits={"max_removals": "100%"})
    ws.write_config()
    yield Rig(server, ws, tmp_path / "state.db")
    server.admin.faults()


def interrupt(run: PtyRun, action: str) -> None:
    if action == "ctrl-c":
        run.ctrl_c()
    elif action == "ctrl-c twice":
        run.ctrl_c()
        time.sleep(0.15)
        run.ctrl_c()
    else:
        run.send(signal.Signals[action])


def unexpected_lines(text: str) -> list[str]:
    lines = ANSI.sub("", text).replace("\r", "\n").splitlines()
    return [line for line in lines if not ALLOWED.search(line)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_interrupt_prints_only_its_message(rig: Rig, case: Case) -> None:
    if case.extra_members:
        rig.server.admin.seed(LIST, emails("more", case.extra_members))
    if case.latency_ms:
        rig.server.admin.faults(latency_ms=case.latency_ms)
    interpreter_start()  # measured before the run starts (once: it is cached)
    run = rig.start(case)
    run.wait_for(lambda: case.trigger(run, rig.server))
    position = run.mark()
    interrupt(run, case.action)
    code = run.finish()
    rig.server.admin.faults()
    output = run.output
    after_signal = output[position:]
    assert code == 128 + case.signum, output
    for word in NOISE:
        assert word not in output, output
    assert unexpected_lines(after_signal) == [], output
    name = signal.Signals(case.signum).name
    assert f"interrupted by {name}" in after_signal, output
    runs = rig.runs()
    if case.command == "plan":
        assert runs == []
    else:
        assert [run["outcome"] for run in runs] in ([], ["interrupted"]), runs
    if case.command == "prompt":
        assert [run["outcome"] for run in runs] == ["interrupted"]
        assert rig.server.admin.members(LIST) == set(emails("kept", KEEP) + emails("gone", DROP))
