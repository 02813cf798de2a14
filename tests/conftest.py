"""Shared fixtures: the Klaviyo sandbox, in-process and over a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.sandbox import SandboxApp, SandboxConfig, SandboxServer, create_app

SANDBOX_KEY = "sandbox-key"
SANDBOX_TIME_SCALE = 60.0


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Rate limits on, every window and job delay 60 times shorter than Klaviyo's."""
    return SandboxConfig(api_keys=(SANDBOX_KEY,), time_scale=SANDBOX_TIME_SCALE)


@pytest.fixture
def sandbox_server(sandbox_config: SandboxConfig) -> Iterator[SandboxServer]:
    """A running sandbox over a real socket on a free 127.0.0.1 port."""
    with SandboxServer(sandbox_config) as server:
        yield server


@pytest.fixture
def sandbox_app(sandbox_config: SandboxConfig) -> SandboxApp:
    """The same sandbox as an in-process ASGI app (use it with httpx.ASGITransport)."""
    return create_app(sandbox_config)
