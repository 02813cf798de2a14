"""Helpers for the engine-level fidelity tests: the CLI against a sandbox of their own (real
socket), configured with the fidelity switches a test needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from reconciler.klaviyo.transport.http import REVISION
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.e2e.conftest import TIME_SCALE, Harness
from tests.e2e.workspace import TEST_KEY, Workspace


@contextmanager
def fidelity_harness(tmp_path: Path, **sandbox: Any) -> Iterator[Harness]:
    """A harness over a fresh sandbox with ``sandbox`` settings (time scale of the harness)."""
    sandbox.setdefault("import_rate", 50_000.0)
    config = SandboxConfig(api_keys=(TEST_KEY,), time_scale=TIME_SCALE, **sandbox)
    with SandboxServer(config) as server:
        yield Harness(server=server, workspace=Workspace(tmp_path), state=tmp_path / "state.db")


def api(harness: Harness, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A call to the sandbox's public API with the test key (another integration's call)."""
    headers = {
        "Authorization": f"Klaviyo-API-Key {TEST_KEY}",
        "revision": REVISION,
        "Content-Type": "application/vnd.api+json",
        "Accept": "application/vnd.api+json",
    }
    return httpx.request(method, harness.server.base_url + path, headers=headers, **kwargs)


def sql(harness: Harness, statement: str, *args: object) -> list[tuple[Any, ...]]:
    """Run ``statement`` on the harness's SQLite state (to stage a state a run left behind)."""
    with sqlite3.connect(harness.state) as db:
        return db.execute(statement, args).fetchall()
