"""``reconciler sandbox`` as a user runs it: a real process on a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def sandbox_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "reconciler.cli.main",
        "sandbox",
        "--port",
        str(port),
        "--api-key",
        "pk_cli_key_one",
        "--time-scale",
        "30",
        "--rate-limits",
        "off",
        "--auth-errors",
        "legacy",
        "--key-scopes",
        "pk_cli_key_one=lists:read,profiles:read",
        "--job-ttl",
        "3600",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/_sandbox/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("reconciler sandbox did not start")
        yield process, base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sandbox_command_serves_the_api(sandbox_process: tuple[subprocess.Popen[str], str]) -> None:
    process, base = sandbox_process
    headers = {"Authorization": "Klaviyo-API-Key pk_cli_key_one", "revision": "2026-07-15"}
    httpx.post(f"{base}/_sandbox/lists/Y6nRLr/members", json={"emails": ["cli@example.com"]})
    response = httpx.get(f"{base}/api/lists/Y6nRLr/profiles", headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Sandbox-Time-Scale"] == "30"
    assert response.json()["data"][0]["attributes"]["email"] == "cli@example.com"
    assert httpx.get(f"{base}/api/lists", headers={"revision": "2026-07-15"}).status_code == 400
    created = httpx.post(f"{base}/api/lists", headers=headers, json={"data": {}})
    assert created.status_code == 403  # the key was given read scopes only
    process.terminate()
    output, _ = process.communicate(timeout=10)
    assert "Klaviyo sandbox on " + base in output
    assert "pk_cli_key_one" not in output and "pk_***" in output


def test_bad_options_give_a_clean_error() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "--time-scale", "0"])
    assert result.exit_code == 2 and "--time-scale" in result.output
    result = CliRunner().invoke(cli, ["sandbox", "--rate-limits", "maybe"])
    assert result.exit_code == 2 and "'maybe' is not one of" in result.output
    for args, named in (
        (["--key-scopes", "no-equals-sign"], "KEY=SCOPE"),
        (["--remaining-noise", "1"], "--remaining-noise"),
        (["--l-steady", "0"], "--l-steady"),
        (["--datetime-filters", "loose"], "--datetime-filters"),
    ):
        result = CliRunner().invoke(cli, ["sandbox", *args])
        assert result.exit_code == 2 and named in result.output, (args, result.output)


def test_a_busy_port_is_a_clean_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["sandbox", "--port", str(port)])
    assert result.exit_code == 1
    assert "cannot listen on 127.0.0.1" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
