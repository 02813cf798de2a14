"""SQLite sources: an existing file, opened read-only, running one read-only SELECT.

A segment query runs during ``plan``, ``segments preview`` and ``validate --sources``, the steps
a pull request runs, so it must not be able to write: the file is opened with ``mode=ro`` (a
missing file is refused, never created) and, once connected, SQLite's authorizer allows only
reading (``VACUUM INTO``, ``ATTACH``, ``PRAGMA``, transactions and every write are denied
while the statement is prepared, before it can run).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from reconciler.errors import SourceDeclarationError

READ_ONLY_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
REFUSED_HINT = (
    "a SQLite segment runs one read-only SELECT: ATTACH, VACUUM, PRAGMA and writes are refused"
)


def database_file(url: URL, config_dir: Path, segment: str, source: str) -> Path:
    """The existing database file ``url`` names (relative paths from ``config_dir``)."""
    name = str(url.database or "").removeprefix("file:")
    if name in ("", ":memory:"):
        raise SourceDeclarationError(
            segment,
            source,
            "a SQLite source needs a database file",
            hint="write url: sqlite:///path/to/file.db (relative to the config directory)",
        )
    path = Path(name) if Path(name).is_absolute() else config_dir / name
    if not path.is_file():
        raise SourceDeclarationError(
            segment,
            source,
            f"SQLite database file {path} does not exist",
            hint="fix the path in url: (sources never create a database)",
        )
    return path


def read_only_engine(path: Path) -> Engine:
    """An engine whose connections open ``path`` with ``mode=ro``."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    return sa.create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)


def allow_reads_only(connection: Connection) -> None:
    """From now on ``connection`` prepares only statements that read."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.set_authorizer(_authorize)


def _authorize(action: int, *_: str | None) -> int:
    return sqlite3.SQLITE_OK if action in READ_ONLY_ACTIONS else sqlite3.SQLITE_DENY
