"""Waiting for a list locked by another apply (issue 14): the wait is shown, lasts
--lock-timeout and no more, and the locked list is not read meanwhile (it used to be read in
full after the wait: 'gave up after 2s' after 31 s of silence)."""

from __future__ import annotations

import threading
import time

from reconciler.state.filelocks import FileListLocks
from tests.cli.conftest import Harness
from tests.e2e.workspace import TEST_KEY

READ = "GET /api/lists/{id}/profiles"


def test_lock_timeout_is_kept_and_the_wait_is_shown(harness: Harness) -> None:
    harness.server.admin.seed("Y6nRLr", [f"old.{i}@example.com" for i in range(500)])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(50)])
    ws.add_export("vip", "vip", "Y6nRLr", limits={"max_removals": "100%"})
    ws.write_config()
    account = _account_of(harness)
    locks = FileListLocks(harness.state.parent / "locks")
    reads_before = harness.server.admin.stats()["requests"].get(READ, 0)
    with locks.lock_list(f"{account}/Y6nRLr", "ann@contoso.com (run 1a2b3c4d)", timeout=0):
        started = time.monotonic()
        result = harness.run("apply", "--yes", "--lock-timeout", "2")
        elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert elapsed < 6, f"{elapsed:.1f}s"
    assert (
        f"waiting for lock {account}/Y6nRLr held by ann@contoso.com (run 1a2b3c4d)" in result.stderr
    )
    assert "up to 2s" in result.stderr
    assert "gave up after 2s" in result.output
    assert harness.server.admin.stats()["requests"].get(READ, 0) == reads_before  # not read
    assert len(harness.members("Y6nRLr")) == 500  # nothing changed


def test_a_lock_released_during_the_wait_is_taken(harness: Harness) -> None:
    harness.server.admin.seed("Y6nRLr", [])
    ws = harness.workspace
    ws.write_members("vip", [f"a.{i}@example.com" for i in range(50)])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    account = _account_of(harness)
    locks = FileListLocks(harness.state.parent / "locks")
    release = threading.Event()

    def hold() -> None:
        with locks.lock_list(f"{account}/Y6nRLr", "ann@contoso.com", timeout=0):
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    threading.Timer(1.0, release.set).start()
    result = harness.run("apply", "--yes", "--lock-timeout", "20")
    holder.join()
    assert result.exit_code == 0, result.output
    assert "waiting for lock" in result.stderr
    assert len(harness.members("Y6nRLr")) == 50


def _account_of(harness: Harness) -> str:
    """The sandbox's id of the test key's account (the first part of a lock key)."""
    account = harness.server.state.store.account(TEST_KEY)
    assert account is not None
    return account.id
