"""A local Klaviyo-compatible API server for tests, the demo and benchmarks.

    from reconciler.sandbox import SandboxConfig, SandboxServer, create_app

    with SandboxServer(SandboxConfig(time_scale=60)) as server:
        server.base_url          # http://127.0.0.1:PORT
        server.admin.seed("Y6nRLr", ["a@example.com"])

The same app runs in-process with ``httpx.ASGITransport(app=create_app(config))``.
"""

from reconciler.sandbox.app import SandboxApp, create_app
from reconciler.sandbox.config import SandboxConfig, SandboxError
from reconciler.sandbox.faults import FaultSettings
from reconciler.sandbox.server import AdminClient, SandboxServer
from reconciler.sandbox.state import SandboxState

__all__ = [
    "AdminClient",
    "FaultSettings",
    "SandboxApp",
    "SandboxConfig",
    "SandboxError",
    "SandboxServer",
    "SandboxState",
    "create_app",
]
