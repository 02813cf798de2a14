"""Waiting for a list lock held by another apply, visibly: a line when the wait starts and one
every few seconds while it lasts, and the full ``--lock-timeout`` kept, not more."""

from __future__ import annotations

import time
from contextlib import ExitStack

from reconciler.engine.progress import Progress
from reconciler.errors import LockTimeout
from reconciler.state import ListLocks

REPORT_EVERY = 5.0


def wait_for_lock(
    locks: ListLocks,
    key: str,
    holder: str,
    *,
    timeout: float,
    into: ExitStack,
    progress: Progress,
    every: float = REPORT_EVERY,
) -> None:
    """Lock ``key`` (held until ``into`` closes); LockTimeout after ``timeout`` seconds in all
    (negative: no limit), saying how long it waited and who holds the lock."""
    started = time.monotonic()
    try:
        into.enter_context(locks.lock_list(key, holder, timeout=0))
        return
    except LockTimeout as busy:
        if timeout == 0:
            raise
        limit = "no time limit" if timeout < 0 else f"up to {timeout:g}s, --lock-timeout"
        progress.note(f"waiting for lock {key} held by {busy.holder} ({limit})")
    while True:
        waited = time.monotonic() - started
        remaining = every if timeout < 0 else min(every, timeout - waited)
        if remaining <= 0:
            raise LockTimeout(key, locks.lock_holder(key) or "another apply", waited)
        try:
            into.enter_context(locks.lock_list(key, holder, timeout=remaining))
            return
        except LockTimeout as busy:
            waited = time.monotonic() - started
            if timeout < 0 or waited < timeout:
                progress.note(f"still waiting for lock {key} held by {busy.holder} ({waited:.0f}s)")
