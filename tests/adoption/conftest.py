"""Fixtures for adoption: a config repository over the sandbox (a real socket) and a CLI."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.conftest import SANDBOX_KEY, SANDBOX_TIME_SCALE
from tests.faults.conftest import fault_sandbox, rig  # noqa: F401 (fixtures of the faults rig)

KEY_ENV = "ADOPTION_KLAVIYO_KEY"


def export(name: str, segment: str, list_id: str, **settings: Any) -> dict[str, Any]:
    return {
        "kind": "Export",
        "name": name,
        "segment": segment,
        "connection": "klaviyo",
        "list_id": list_id,
        "fields": {"email": "email"},
        **settings,
    }


def addresses(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix}.{i}@example.com" for i in range(start, start + count)]


@dataclass
class Repo:
    """A config directory ``root/exports`` with one connection, one file source, segments."""

    root: Path
    server: SandboxServer

    @property
    def config_dir(self) -> Path:
        return self.root / "exports"

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    def seed_list(self, list_id: str, name: str, emails: Iterable[str]) -> None:
        """Create (or fill) a list through the sandbox's admin endpoint."""
        body = {"emails": list(emails), "name": name}
        url = f"{self.server.base_url}/_sandbox/lists/{list_id}/members"
        httpx.post(url, json=body, timeout=30).raise_for_status()

    def write(
        self,
        segments: dict[str, Sequence[str]],
        exports: Sequence[dict[str, Any]] = (),
        extra: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Segment NAME reads data/NAME.csv holding ``emails``; exports are given in full."""
        data = self.config_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        for name, emails in segments.items():
            with (data / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["email", "first_name"])
                writer.writerows([e, "Ann"] for e in emails)
        docs: list[dict[str, Any]] = [
            {
                "kind": "Connection",
                "name": "klaviyo",
                "api_key": {"env": KEY_ENV},
                "consent": {
                    "accepted": True,
                    "accepted_by": "jane@contoso.com",
                    "accepted_at": "2026-11-20",
                },
            },
            {
                "kind": "Source",
                "name": "files",
                "files": {name: f"data/{name}.csv" for name in segments},
            },
            *(
                {"kind": "Segment", "name": name, "source": "files", "table": name}
                for name in segments
            ),
            *exports,
            *extra,
        ]
        (self.config_dir / "config.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """The CLI, pointed at this repo, the sandbox and its state."""
        command = args[2] if args[0] == "--log-format" else args[0]
        extra = ["--config-dir", str(self.config_dir)]
        if command in ("lists", "import", "plan", "apply", "report"):
            extra += ["--base-url", self.server.base_url, "--time-scale", str(SANDBOX_TIME_SCALE)]
        if command in ("import", "plan", "apply", "report"):
            extra += ["--state", str(self.state)]
        return CliRunner().invoke(
            cli, [*args, *extra], env={KEY_ENV: SANDBOX_KEY, **(env or {})}, catch_exceptions=False
        )

    def run_json(self, *args: str) -> Any:
        result = self.run(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def lenient_config() -> SandboxConfig:
    """The shared sandbox, as strict as Klaviyo about filter datetimes (the client sends
    whole milliseconds)."""
    return SandboxConfig(api_keys=(SANDBOX_KEY,), time_scale=SANDBOX_TIME_SCALE)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return lenient_config()


@pytest.fixture
def repo(sandbox_server: SandboxServer, tmp_path: Path) -> Repo:
    return Repo(root=tmp_path, server=sandbox_server)
