"""``open_state``: choose and open the backend named by a URL, a path or the environment.

The SQLite file holds every member's address: its directory is created 0700 and the database
0600 (SQLite gives its -wal and -shm files the database's mode), whatever the umask.
"""

from __future__ import annotations

import contextlib
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
STATE_DIR = ".reconciler"
DEFAULT_PATH = Path(STATE_DIR) / "state.db"
DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
_PG_SCHEMES = ("postgresql://", "postgres://")


class StateNotFound(StateError):
    """A command that only reads the state was pointed at a state file that does not exist."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no state file at {path}")
        self.path = path
        self.hint = (
            "nothing was applied with this state yet; check --state / $RECONCILER_STATE, or "
            "--config-dir (the default state lives at the root of the config's git repository)"
        )


def chosen_url(url: str | None) -> str | None:
    """``url``, else $RECONCILER_STATE, else None (the default SQLite file)."""
    return url if url else os.environ.get(ENV_VAR) or None


def sqlite_path(url: str | None, root: Path) -> Path | None:
    """The SQLite file ``url`` names (relative to ``root``); None for PostgreSQL."""
    chosen = chosen_url(url)
    if chosen is None:
        return root / DEFAULT_PATH
    if chosen.startswith(_PG_SCHEMES):
        return None
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
    return path if path.is_absolute() else root / path


def open_state(
    url: str | None = None, *, root: Path = Path("."), create: bool = True
) -> SqlStateBackend:
    """Open (creating on first use, unless ``create`` is False) the state backend.

    ``url``: ``postgresql://...`` (optionally ``?schema=NAME``), ``sqlite:///path``, or a plain
    path; None means $RECONCILER_STATE, else ``root/.reconciler/state.db``. A relative path is
    taken relative to ``root``. With ``create=False`` a missing SQLite file raises
    :class:`StateNotFound` and nothing is created.
    """
    path = sqlite_path(url, root)
    if path is None:
        chosen = chosen_url(url)
        assert chosen is not None
        return open_postgres(chosen)
    if not create and not path.exists():
        raise StateNotFound(path.absolute())
    return open_sqlite(path)


def open_sqlite(path: Path) -> SqlStateBackend:
    """The SQLite backend in ``path``, with file locks in ``locks/`` beside it."""
    if path.is_dir():
        raise StateError(f"the state path {path} is a directory; name a file such as state.db")
    prepare_private_file(path)
    db = SqliteDatabase(path)
    try:
        migrate(db, "sqlite")
    except BaseException:
        db.close()
        raise
    return SqlStateBackend(db, FileListLocks(path.parent / "locks"), description=str(path))


def prepare_private_file(path: Path) -> None:
    """Create ``path``'s missing directories 0700 and ``path`` itself 0600 (empty); tighten an
    existing file of ours that others can read."""
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
        os.close(fd)
        for suffix in ("", *SQLITE_SIDE_FILES):
            _tighten(Path(f"{path}{suffix}"))
    except OSError as exc:
        raise StateError(f"cannot create the state file {path}: {exc.strerror or exc}") from exc


def _tighten(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(path, FILE_MODE)


def created_by_opening(path: Path) -> list[Path]:
    """What opening a fresh SQLite state at ``path`` would create, deepest first: the file, its
    side files, the locks directory, and each missing parent directory."""
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    files = [Path(f"{path}{suffix}") for suffix in ("", *SQLITE_SIDE_FILES)]
    return [*files, path.parent / "locks", *missing]


def remove_created(paths: list[Path]) -> None:
    """Undo :func:`created_by_opening` (files, then empty directories), as far as possible."""
    for item in paths:
        with contextlib.suppress(OSError):
            if item.is_dir():
                item.rmdir()
            else:
                item.unlink()


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
