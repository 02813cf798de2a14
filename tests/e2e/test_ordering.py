"""An apply from a checkout older than the last applied commit is refused (out-of-order CI)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.engine.ordering import BehindError, check_not_behind, last_applied_commit
from reconciler.state import RunStart, StateBackend, open_state


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture()
def commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A repository with two commits, A then B; the test runs inside it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@contoso.com")
    git(repo, "config", "user.name", "CI")
    made = []
    for text in ("a", "b"):
        (repo / "exports.yaml").write_text(text)
        git(repo, "add", "exports.yaml")
        git(repo, "commit", "-q", "-m", text)
        made.append(git(repo, "rev-parse", "HEAD"))
    monkeypatch.chdir(repo)
    return made[0], made[1]


def journal(state: StateBackend, commit: str, outcome: str) -> None:
    run_id = state.journal.start_run(RunStart("ci", commit, None, "apply", False))
    state.journal.finish_run(run_id, outcome)


def test_an_older_checkout_is_refused_after_a_newer_apply(
    commits: tuple[str, str], tmp_path: Path
) -> None:
    a, b = commits
    with open_state(str(tmp_path / "state.db")) as state:
        check_not_behind(state, a, force=False)  # nothing applied yet
        journal(state, b, "succeeded")
        with pytest.raises(BehindError) as caught:
            check_not_behind(state, a, force=False)
        assert a[:12] in str(caught.value) and b[:12] in str(caught.value)
        assert "revert" in caught.value.hint
        check_not_behind(state, b, force=False)  # the same commit again is fine
        check_not_behind(state, a, force=True)  # a deliberate roll back


def test_runs_that_sent_nothing_and_unknown_commits_do_not_count(
    commits: tuple[str, str], tmp_path: Path
) -> None:
    a, b = commits
    with open_state(str(tmp_path / "state.db")) as state:
        journal(state, a, "succeeded")
        check_not_behind(state, b, force=False)  # a newer commit goes ahead
        journal(state, b, "blocked")
        assert last_applied_commit(state) == a
        check_not_behind(state, a, force=False)
        journal(state, "0" * 40, "succeeded")  # not in this clone (e.g. shallow): cannot tell
        check_not_behind(state, a, force=False)
