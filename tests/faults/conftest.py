"""Fault-injection fixtures: a slow-importing sandbox over a real socket, the e2e harness on it,
and helpers to run the CLI as a real subprocess and read the journal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.e2e.conftest import TIME_SCALE, Harness
from tests.e2e.workspace import KEY_ENV, TEST_KEY, Workspace, emails
from tests.security.scan import assert_clean, journal_dump

ROOT = Path(__file__).resolve().parents[2]
# Profiles per virtual second: at TIME_SCALE 60 a job of 3,000 profiles takes almost a second,
# long enough to interrupt an apply in the middle of it.
IMPORT_RATE = 60.0
LIST = "Fa1Lt5"


@pytest.fixture(scope="session")
def fault_sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        api_keys=(TEST_KEY,),
        time_scale=TIME_SCALE,
        import_rate=IMPORT_RATE,
    )
    with SandboxServer(config) as server:
        yield server


@dataclass
class FaultRig:
    """A harness plus what every scenario checks at the end."""

    harness: Harness
    initial: set[str] = field(default_factory=set)
    desired: set[str] = field(default_factory=set)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    logs: pytest.LogCaptureFixture | None = None

    @property
    def server(self) -> SandboxServer:
        return self.harness.server

    def setup(self, keep: int = 1_500, drop: int = 500, new: int = 1_500, **settings: Any) -> None:
        """List: ``keep`` wanted + ``drop`` unwanted members; segment: ``keep`` + ``new``."""
        ws = self.harness.workspace
        kept, gone = emails("kept", keep), emails("gone", drop)
        self.server.admin.seed(LIST, kept + gone)
        self.initial = set(kept + gone)
        self.desired = set(kept + emails("new", new))
        ws.write_members("seg", sorted(self.desired))
        # membership only: the seeded members were never sent fields, so mapping first_name
        # would add one update job of the kept members (fields kept current, issue 13) to every
        # scenario's count of jobs; tests/e2e/test_marketing.py covers updates
        settings.setdefault("fields", {"email": "email"})
        ws.add_export("fault", "seg", LIST, limits={"max_removals": "100%"}, **settings)
        ws.write_config()

    def apply(self, *args: str) -> Result:
        result = self.harness.run("apply", "--yes", "--actor", "fault-suite", *args)
        self.outputs.append(("apply stdout", result.stdout))
        self.outputs.append(("apply stderr", result.stderr))
        return result

    def apply_until_converged(self, attempts: int = 6) -> list[int]:
        codes = []
        for _ in range(attempts):
            result = self.apply()
            codes.append(result.exit_code)
            assert "Traceback" not in result.output
            if result.exit_code == 0:
                return codes
        raise AssertionError(f"no clean apply in {attempts} attempts: exit codes {codes}")

    def runs(self) -> list[dict[str, Any]]:
        result = self.harness.run("runs", "--format", "json", "--state", str(self.harness.state))
        assert result.exit_code == 0, result.output
        self.outputs.append(("runs json", result.stdout))
        runs: list[dict[str, Any]] = json.loads(result.stdout)
        return list(reversed(runs))  # oldest first

    def assert_converged(self, reimported: int = 0) -> None:
        """The list equals the segment; no profile was imported twice (except ``reimported``
        profiles a failed job never processed); nothing leaked into outputs or the journal."""
        self.server.admin.faults()
        assert self.server.admin.members(LIST) == self.desired
        stats = self.server.admin.stats()
        assert stats["bulk_profiles_received"] == len(self.desired - self.initial) + reimported
        code, body = self.harness.plan_json("--detailed-exitcode")
        assert code == 0, body
        outputs = [*self.outputs, ("journal", journal_dump(self.harness.state))]
        if self.logs is not None:
            outputs.append(("log records", self.logs.text))
        assert_clean(outputs, TEST_KEY)


@pytest.fixture
def rig(fault_sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> FaultRig:
    fault_sandbox.admin.reset()
    caplog.set_level(logging.DEBUG, logger="reconciler")
    harness = Harness(
        server=fault_sandbox, workspace=Workspace(tmp_path), state=tmp_path / "state.db"
    )
    return FaultRig(harness=harness, logs=caplog)


@dataclass
class Subprocess:
    """``reconciler apply`` as a real child process."""

    proc: subprocess.Popen[str]

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def start_apply(rig: FaultRig) -> Subprocess:
    h = rig.harness
    command = [
        sys.executable,
        "-m",
        "reconciler.cli.main",
        "apply",
        "--yes",
        "--config-dir",
        str(h.workspace.config_dir),
        "--base-url",
        h.server.base_url,
        "--time-scale",
        str(TIME_SCALE),
        "--state",
        str(h.state),
    ]
    env = {**os.environ, KEY_ENV: TEST_KEY, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        command,
        cwd=h.workspace.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Subprocess(proc)


def wait_until(
    check: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"apply ended (exit {proc.returncode}) before the moment to interrupt:\n"
                f"{out}\n{err}"
            )
        time.sleep(0.01)
    raise AssertionError("timed out waiting for the apply to reach the moment to interrupt")


def bulk_jobs(server: SandboxServer) -> int:
    return int(server.admin.stats()["bulk_jobs"])
