"""``open_state``: choose and open the backend named by a URL, a path or the environment."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.errors import StateError
from reconciler.state.backend import SqlStateBackend
from reconciler.state.filelocks import FileListLocks
from reconciler.state.pglocks import AdvisoryListLocks
from reconciler.state.postgres_db import PostgresDatabase, parse_target
from reconciler.state.schema import migrate
from reconciler.state.sqlite_db import SqliteDatabase

ENV_VAR = "RECONCILER_STATE"
DEFAULT_PATH = Path(".reconciler") / "state.db"
_PG_SCHEMES = ("postgresql://", "postgres://")


def open_state(url: str | None = None, *, root: Path = Path(".")) -> SqlStateBackend:
    """Open (creating on first use) the state backend.

    ``url``: ``postgresql://...`` (optionally ``?schema=NAME``), ``sqlite:///path``, or a plain
    path; None means $RECONCILER_STATE, else ``root/.reconciler/state.db``. A relative path is
    taken relative to ``root``.
    """
    chosen = url if url else os.environ.get(ENV_VAR) or None
    if chosen is None:
        return open_sqlite(root / DEFAULT_PATH)
    if chosen.startswith(_PG_SCHEMES):
        return open_postgres(chosen)
    if chosen.startswith("sqlite://"):
        chosen = chosen.removeprefix("sqlite://").removeprefix("/")
        if not chosen:
            raise StateError("the sqlite:/// state URL names no file (sqlite:///path/state.db)")
    elif "://" in chosen:
        scheme = chosen.split("://", 1)[0]
        error = StateError(f"unsupported state URL scheme {scheme!r}")
        error.hint = "use postgresql://user@host/db, sqlite:///path/state.db or a plain path"
        raise error
    path = Path(chosen).expanduser()
    return open_sqlite(path if path.is_absolute() else root / path)


def open_sqlite(path: Path) -> SqlStateBackend:
    """The SQLite backend in ``path``, with file locks in ``locks/`` beside it."""
    if path.is_dir():
        raise StateError(f"the state path {path} is a directory; name a file such as state.db")
    db = SqliteDatabase(path)
    try:
        migrate(db, "sqlite")
    except BaseException:
        db.close()
        raise
    return SqlStateBackend(db, FileListLocks(path.parent / "locks"), description=str(path))


def open_postgres(url: str) -> SqlStateBackend:
    """The PostgreSQL backend at ``url`` (advisory locks on the same server)."""
    target = parse_target(url)
    db = PostgresDatabase(target)
    try:
        migrate(db, "postgresql")
    except BaseException:
        db.close()
        raise
    locks = AdvisoryListLocks(target, db.connection)
    return SqlStateBackend(db, locks, description=target.safe_url)
