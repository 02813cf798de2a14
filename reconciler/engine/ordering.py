"""Refuses to apply from a checkout older than the one the last apply ran from.

Two CI runs can start out of order: a scheduled apply triggered on commit A may start after the
push apply of a newer commit B has finished. Applying A then would undo B's changes until the
next run. The journal records each run's commit; when the commit being applied is a strict
ancestor of the last applied one, the apply stops before changing anything.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.audit.git import find_root, is_ancestor
from reconciler.errors import ReconcilerError
from reconciler.outcomes import Outcome
from reconciler.state import StateBackend

# Runs that may have changed lists (blocked and cancelled runs sent nothing).
APPLIED = frozenset(
    {Outcome.SUCCEEDED, Outcome.PARTIAL, Outcome.INTERRUPTED, Outcome.FAILED, Outcome.RUNNING}
)
SCANNED_RUNS = 50


class BehindError(ReconcilerError):
    """The checkout is older than the commit of the last apply."""

    def __init__(self, commit: str, last: str) -> None:
        super().__init__(
            f"this checkout ({commit[:12]}) is older than the commit the last apply ran from "
            f"({last[:12]}): applying it would undo the newer changes"
        )
        self.hint = (
            "check out the latest commit of the branch and run again; to roll back on purpose, "
            "revert the change in a new commit (or pass --force)"
        )


def check_not_behind(
    state: StateBackend, commit: str | None, *, force: bool, where: Path | None = None
) -> None:
    """Raise BehindError if ``commit`` is a strict ancestor of the last applied commit, as
    known to the repository holding ``where`` (the config directory; default the current
    directory)."""
    if commit is None or force:
        return
    last = last_applied_commit(state)
    repo = find_root(where or Path("."))
    if last is not None and last != commit and repo and is_ancestor(repo, commit, last):
        raise BehindError(commit, last)


def last_applied_commit(state: StateBackend) -> str | None:
    for run in state.journal.list_runs(limit=SCANNED_RUNS):
        if run.commit and run.outcome in APPLIED:
            return run.commit
    return None
