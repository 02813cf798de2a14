"""Running the real CLI in process against the e2e sandbox, without the harness's --state."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.sandbox import SandboxServer
from tests.e2e.conftest import TIME_SCALE
from tests.e2e.workspace import KEY_ENV, TEST_KEY


def invoke(server: SandboxServer, *args: str, input: str | None = None) -> Result:
    """``reconciler ARGS``; plan and apply also get the sandbox's URL and time scale."""
    command = list(args)
    if command[0] in ("plan", "apply"):
        command += ["--base-url", server.base_url, "--time-scale", str(TIME_SCALE)]
    env = {KEY_ENV: TEST_KEY, "RECONCILER_STATE": None}
    return CliRunner().invoke(cli, command, env=env, input=input, catch_exceptions=False)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@contoso.com")
    git(path, "config", "user.name", "Dev")
    return path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}
