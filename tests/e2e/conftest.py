"""End-to-end fixtures: one sandbox over a real socket, and a CLI runner wired to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.e2e.workspace import KEY_ENV, TEST_KEY, Workspace

TIME_SCALE = 60.0


@pytest.fixture(scope="session")
def e2e_sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        api_keys=(TEST_KEY,),
        time_scale=TIME_SCALE,
        import_rate=50_000.0,
    )
    with SandboxServer(config) as server:
        yield server


@dataclass
class Harness:
    server: SandboxServer
    workspace: Workspace
    state: Path

    def run(self, *args: str, input: str | None = None) -> Result:
        command, rest = args[0], list(args[1:])
        common = (
            []
            if command in ("runs", "force-unlock")
            else ["--config-dir", str(self.workspace.config_dir)]
        )
        if command in ("plan", "apply"):
            common += [
                "--base-url",
                self.server.base_url,
                "--time-scale",
                str(TIME_SCALE),
                "--state",
                str(self.state),
            ]
        runner = CliRunner()
        return runner.invoke(
            cli,
            [command, *rest, *common],
            env={KEY_ENV: TEST_KEY},
            input=input,
            catch_exceptions=False,
        )

    def plan_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self.run("plan", "--format", "json", *args)
        return result.exit_code, json.loads(result.stdout)

    def members(self, list_id: str) -> set[str]:
        return self.server.admin.members(list_id)


@pytest.fixture
def harness(e2e_sandbox: SandboxServer, tmp_path: Path) -> Harness:
    e2e_sandbox.admin.reset()
    return Harness(server=e2e_sandbox, workspace=Workspace(tmp_path), state=tmp_path / "state.db")
