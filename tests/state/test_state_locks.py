"""List locks contended by two real processes, holder messages, force-unlock, crashed holders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.errors import LockTimeout
from reconciler.state import SqlStateBackend

KEY = "acct-1/Y6nRLr"
CHILD = Path(__file__).with_name("lock_holder_child.py")


class Holder:
    """A child process holding KEY; ``release()`` lets it go."""

    def __init__(self, url: str, tmp: Path, hold: float = -1) -> None:
        self.release_file = tmp / f"release-{time.monotonic_ns()}"
        root = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), url, KEY, str(self.release_file), str(hold)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line == "LOCKED", self.proc.stderr.read() if self.proc.stderr else line

    def release(self) -> None:
        self.release_file.touch()

    def wait(self) -> tuple[int, str]:
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out + err


@pytest.fixture
def holders(state_url: str, tmp_path: Path) -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        if holder.proc.poll() is None:
            holder.proc.kill()
            holder.proc.wait()


def test_second_process_times_out_naming_the_holder_then_succeeds(
    backend: SqlStateBackend, state_url: str, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(state_url, tmp_path)
    holders.append(holder)
    assert "child-actor (run c0ffee)" in (backend.locks.lock_holder(KEY) or "")

    started = time.monotonic()
    with pytest.raises(LockTimeout) as caught, backend.locks.lock_list(KEY, "me", timeout=0.4):
        pytest.fail("acquired a lock another process holds")
    assert time.monotonic() - started >= 0.4
    message = str(caught.value)
    assert caught.value.resource == KEY
    assert "child-actor (run c0ffee)" in message and f"pid {holder.proc.pid}" in message
    assert f"force-unlock {KEY}" in message

    holder.release()
    with backend.locks.lock_list(KEY, "me (run 2)", timeout=10):
        assert "me (run 2)" in (backend.locks.lock_holder(KEY) or "")
        assert backend.locks.held_locks() == {KEY: backend.locks.lock_holder(KEY)}
    assert backend.locks.lock_holder(KEY) is None
    assert holder.wait()[0] == 0


def test_waiter_gets_the_lock_when_the_holder_releases(
    backend: SqlStateBackend, state_url: str, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(state_url, tmp_path, hold=0.6)
    holders.append(holder)
    started = time.monotonic()
    with backend.locks.lock_list(KEY, "me", timeout=15):
        waited = time.monotonic() - started
    assert 0.2 < waited < 15
    assert holder.wait()[0] == 0


def test_other_lists_are_independent(
    backend: SqlStateBackend, state_url: str, tmp_path: Path, holders: list[Holder]
) -> None:
    holders.append(Holder(state_url, tmp_path))
    with backend.locks.lock_list("acct-1/OTHER", "me", timeout=0):
        assert backend.locks.lock_holder("acct-1/OTHER") is not None


def test_force_unlock_breaks_a_hung_holder(
    backend: SqlStateBackend, state_url: str, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(state_url, tmp_path)
    holders.append(holder)
    assert backend.locks.force_unlock(KEY) is True
    with backend.locks.lock_list(KEY, "rescuer", timeout=5):
        holder.release()
        code, output = holder.wait()
        assert code == 0, output  # the old holder's release does not fail ...
        assert "rescuer" in (backend.locks.lock_holder(KEY) or "")  # ... nor remove our record
    assert backend.locks.force_unlock("acct-1/NEVER-LOCKED") is False


def test_a_killed_holder_leaves_no_lock(
    backend: SqlStateBackend, state_url: str, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(state_url, tmp_path)
    holders.append(holder)
    os.kill(holder.proc.pid, signal.SIGKILL)
    holder.proc.wait()
    with backend.locks.lock_list(KEY, "next", timeout=10):
        assert "next" in (backend.locks.lock_holder(KEY) or "")


def test_lock_in_the_same_process_is_exclusive(backend: SqlStateBackend) -> None:
    with backend.locks.lock_list(KEY, "first", timeout=0):
        second = backend.locks.lock_list(KEY, "x", timeout=0)
        with pytest.raises(LockTimeout, match="first"):
            second.__enter__()
    with backend.locks.lock_list(KEY, "again", timeout=0):
        pass
