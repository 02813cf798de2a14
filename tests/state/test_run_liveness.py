"""A run journalled in flight whose process was killed is told apart from a live one by the
run's own lock (held by a real child process here), on both backends, and journalled
interrupted by the next settle; live and finished runs are left alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reconciler.engine.liveness import alive, gone, run_key, settle_abandoned
from reconciler.outcomes import Outcome
from reconciler.state import RunStart, SqlStateBackend
from reconciler.state.journal import new_run_id

CHILD = Path(__file__).with_name("lock_holder_child.py")


def _start(backend: SqlStateBackend, run_id: str) -> str:
    return backend.journal.start_run(RunStart("octocat", None, None, "apply", False), run_id)


def _outcomes(backend: SqlStateBackend) -> dict[str, Outcome]:
    return {r.run_id: r.outcome for r in backend.journal.list_runs()}


def test_a_killed_runs_lock_is_free_and_the_next_settle_journals_it(
    backend: SqlStateBackend, state_url: str, tmp_path: Path
) -> None:
    killed, live, finished, old = (new_run_id() for _ in range(4))
    child = subprocess.Popen(
        [sys.executable, str(CHILD), state_url, run_key(killed), str(tmp_path / "never"), "-1"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "LOCKED"
        _start(backend, killed)
        with alive(backend, live, "octocat (run live)"):
            _start(backend, live)
            _start(backend, finished)
            backend.journal.finish_run(finished, Outcome.SUCCEEDED)
            _start(backend, old)  # journalled by a version without run locks, long dead
            assert not gone(backend, killed) and not gone(backend, live)
            assert settle_abandoned(backend) == (old,)
            child.kill()  # SIGKILL: the process cannot journal anything
            child.wait(timeout=20)
            assert gone(backend, killed)
            assert settle_abandoned(backend) == (killed,)
            assert settle_abandoned(backend) == ()  # once
            outcomes = _outcomes(backend)
            assert outcomes[killed] == outcomes[old] == Outcome.INTERRUPTED
            assert outcomes[live] == Outcome.RUNNING and outcomes[finished] == Outcome.SUCCEEDED
            backend.journal.finish_run(live, Outcome.SUCCEEDED)  # the live run finishes as usual
        assert backend.locks.held_locks() == {}  # no run lock is left
        directory = getattr(backend.locks, "directory", None)  # SQLite: nor a file of one
        assert directory is None or not [p for p in directory.iterdir() if "run_" in p.name]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not backend.journal.abandon(killed)  # finished already: nothing to do
