"""Running the sandbox over a real socket (uvicorn in a background thread) and its admin helper."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from reconciler.sandbox.app import SandboxApp, create_app
from reconciler.sandbox.config import SandboxConfig, SandboxError
from reconciler.sandbox.state import SandboxState
from reconciler.sandbox.transport import DroppableH11Protocol

STARTUP_TIMEOUT = 10.0


class AdminClient:
    """A small synchronous client for the ``/_sandbox/`` admin endpoints."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout)

    def seed(self, list_id: str, emails: Iterable[str], account: str | None = None) -> int:
        """Create ``list_id`` if needed and add ``emails`` at once; returns how many were added."""
        body: dict[str, Any] = {"emails": list(emails)}
        if account is not None:
            body["account"] = account
        added: int = self._call("POST", f"/_sandbox/lists/{list_id}/members", json=body)["added"]
        return added

    def members(self, list_id: str, account: str | None = None) -> set[str]:
        """The lower-cased emails of the list's members."""
        params = {"account": account} if account else None
        result = self._call("GET", f"/_sandbox/lists/{list_id}/members", params=params)
        return set(result["emails"])

    def remove(self, list_id: str, emails: Iterable[str], account: str | None = None) -> int:
        """Remove members behind the reconciler's back; returns how many were members."""
        params = {"account": account} if account else None
        body = {"emails": list(emails)}
        path = f"/_sandbox/lists/{list_id}/members"
        removed: int = self._call("DELETE", path, json=body, params=params)["removed"]
        return removed

    def faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (no arguments: no faults). See ``FaultSettings``."""
        return self._call("PUT", "/_sandbox/faults", json=settings)

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/stats")

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset")

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._client.request(method, path, **kwargs)
        body: dict[str, Any] = response.json()
        if response.is_error:
            raise SandboxError(f"sandbox admin {method} {path}: {body.get('error', body)}")
        return body


class SandboxServer:
    """The sandbox served by uvicorn on ``host`` (a free port unless ``port`` is given).

    ``with SandboxServer(config) as server:`` starts it in a background thread and stops it on
    exit; ``server.base_url`` and ``server.admin`` are ready inside the block.
    """

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.app: SandboxApp = create_app(self.config)
        self.host = host
        self._socket = _bind(host, port)
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(_uvicorn_config(self.app, host, self.port, "warning"))
        self._thread: threading.Thread | None = None
        self._admin: AdminClient | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        return self.app.sandbox

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self.base_url)
        return self._admin

    def start(self) -> SandboxServer:
        thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="sandbox", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SandboxError(f"the sandbox did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the ``reconciler sandbox`` command)."""
        self._server.run(sockets=[self._socket])

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: SandboxApp, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=DroppableH11Protocol,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        timeout_keep_alive=30,
    )
