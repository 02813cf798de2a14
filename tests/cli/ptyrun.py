"""The real ``reconciler`` command in a real pseudo-terminal (its stdin, stdout and stderr, and
its controlling terminal: a Ctrl-C written to it is delivered by the terminal as SIGINT)."""

from __future__ import annotations

import errno
import os
import pty
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

CTRL_C = b"\x03"
ROOT = Path(__file__).resolve().parents[2]


class PtyRun:
    """One command running in a pseudo-terminal; its output is collected by a thread."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path) -> None:
        argv = [sys.executable, "-m", "reconciler.cli.entry", *args]
        full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
        full_env.pop("RECONCILER_STATE", None)
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (the parent has threads)
            try:
                os.chdir(cwd)
                os.execve(sys.executable, argv, full_env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.started = time.monotonic()
        self._chunks: list[bytes] = []
        self._marks: list[int] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.returncode: int | None = None

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError as exc:  # EIO once the child has exited and closed the terminal
                if exc.errno in (errno.EIO, errno.EBADF):
                    return
                raise
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    @property
    def output(self) -> str:
        with self._lock:
            data = b"".join(self._chunks)
        return data.decode("utf-8", "replace").replace("\r\n", "\n")

    def mark(self) -> int:
        """Remember how much output there is now (to look at what came after)."""
        position = len(self.output)
        self._marks.append(position)
        return position

    def wait_for(self, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.poll() is not None:
                raise AssertionError(f"exited {self.returncode} too early:\n{self.output}")
            time.sleep(0.005)
        raise AssertionError(f"timed out; output so far:\n{self.output}")

    def wait_for_text(self, text: str, timeout: float = 30.0) -> None:
        self.wait_for(lambda: text in self.output, timeout)

    def ctrl_c(self) -> None:
        os.write(self.fd, CTRL_C)

    def send(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def finish(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise AssertionError(f"did not exit within {timeout}s:\n{self.output}")
            time.sleep(0.01)
        self._reader.join(timeout=5)
        os.close(self.fd)
        assert self.returncode is not None
        return self.returncode
