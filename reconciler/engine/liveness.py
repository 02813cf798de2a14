"""Which journalled runs still have a process: a run holds a lock of its own while it runs.

An apply takes the lock ``run/<run id>`` before it journals its start and lets it go once it
has journalled its end; the operating system (a file lock) or PostgreSQL (an advisory lock of
the run's session) lets it go too when the process dies. So a run journalled as in flight
whose lock is free has no process any more: it was killed (SIGKILL, out of memory, a CI job
cancelled without a signal) before it could journal its end. The next apply journals such runs
``interrupted`` (:func:`settle_abandoned`); ``reconciler runs`` shows them as gone until then.
What they did is in their export records and in the lists; the pending import jobs they left
are settled by the next plan as always.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from reconciler.state import StateBackend


def run_key(run_id: str) -> str:
    return f"run/{run_id}"


@contextlib.contextmanager
def alive(state: StateBackend, run_id: str, holder: str) -> Iterator[None]:
    """Hold the run's own lock (a new key: never waited for), then remove it."""
    key = run_key(run_id)
    try:
        with state.locks.lock_list(key, holder, timeout=0):
            yield
    finally:
        state.locks.force_unlock(key)  # nobody holds it now: only its files (or row) are left


def gone(state: StateBackend, run_id: str) -> bool:
    """Whether a run journalled as in flight has no process any more."""
    return state.locks.lock_holder(run_key(run_id)) is None


def settle_abandoned(state: StateBackend) -> tuple[str, ...]:
    """Journal every run in flight whose process is gone as ``interrupted``; their ids."""
    settled = [
        run_id
        for run_id in state.journal.unfinished()
        if gone(state, run_id) and state.journal.abandon(run_id)
    ]
    for run_id in settled:
        state.locks.force_unlock(run_key(run_id))  # a killed run's files stay behind
    return tuple(settled)
