"""Choosing and opening the backend; schema versions; actor resolution."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from reconciler.audit.actor import resolve_actor
from reconciler.errors import StateError
from reconciler.state import RunStart, StateBackend, open_state
from reconciler.state.schema import MIGRATIONS

from .conftest import RawExecute, require_postgres


def test_default_is_sqlite_under_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_STATE", raising=False)
    with open_state(root=tmp_path) as state:
        state.journal.start_run(RunStart("a", None, None, "apply", False))
    assert (tmp_path / ".reconciler" / "state.db").is_file()


def test_environment_variable_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_STATE", str(tmp_path / "env.db"))
    with open_state(root=tmp_path):
        pass
    assert (tmp_path / "env.db").is_file()
    with open_state("relative/rel.db", root=tmp_path):
        pass
    assert (tmp_path / "relative" / "rel.db").is_file()
    with open_state(f"sqlite:///{tmp_path}/url.db", root=Path("/nonexistent")):
        pass
    assert (tmp_path / "url.db").is_file()


def test_reopening_keeps_data_and_schema_version(state_url: str, raw: RawExecute) -> None:
    with open_state(state_url) as state:
        assert isinstance(state, StateBackend)
        run_id = state.journal.start_run(RunStart("a", None, None, "apply", False))
    with open_state(state_url) as state:
        assert [r.run_id for r in state.journal.list_runs()] == [run_id]
    versions = raw("SELECT version FROM reconciler_schema_version ORDER BY version")
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


def test_a_newer_schema_is_refused(state_url: str, raw: RawExecute) -> None:
    open_state(state_url).close()
    raw("INSERT INTO reconciler_schema_version (version, applied_at) VALUES (99, 'future')")
    with pytest.raises(StateError, match="schema version 99"):
        open_state(state_url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/x", "unsupported state URL scheme 'mysql'"),
        ("sqlite://", "names no file"),
        ("postgresql://u@127.0.0.1/test?schema=bad-name;drop", "invalid schema name"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StateError, match=message) as caught:
        open_state(url)
    assert "Traceback" not in str(caught.value)


def test_bad_sqlite_paths(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="is a directory"):
        open_state(str(tmp_path))
    junk = tmp_path / "junk.db"
    junk.write_text("this is not a database " * 100)
    with pytest.raises(StateError, match=r"junk\.db") as caught:
        open_state(str(junk))
    assert "not an SQLite database" in caught.value.hint


@pytest.mark.postgres
def test_unreachable_postgres_hides_the_password() -> None:
    require_postgres()
    with pytest.raises(StateError) as caught:
        open_state("postgresql://user:s3cret@127.0.0.1:1/test")
    assert "s3cret" not in str(caught.value) and "user:***@127.0.0.1:1" in str(caught.value)
    assert "reachable" in caught.value.hint


def test_sqlite_file_is_a_real_database(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    open_state(str(path)).close()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"reconciler_runs", "reconciler_exports", "reconciler_membership"} <= tables


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_resolve_actor_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@contoso.com")
    monkeypatch.chdir(repo)
    assert resolve_actor("  explicit  ") == "explicit"
    assert resolve_actor(None) == "octocat"
    monkeypatch.delenv("GITHUB_ACTOR")
    assert resolve_actor("") == "dev@contoso.com"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "os-user")
    monkeypatch.setenv("LOGNAME", "os-user")
    assert resolve_actor(None) == "os-user"
