"""PostgreSQL implementation of :class:`Database` (psycopg 3), tables ``reconciler_*``.

The URL may carry ``schema=NAME`` (not a libpq parameter: removed before connecting): the
tables then live in that schema, created on first use; otherwise in the connection's default
schema (usually ``public``).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from reconciler.errors import StateError
from reconciler.state.database import Blob, Database, Row
from reconciler.state.records import utc

_BLOB_PART = 16 << 20  # bytes of a blob written at a time
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PostgresTarget:
    """Where the state lives: a libpq URL without our own parameters, and the schema."""

    conninfo: str
    schema: str | None

    @property
    def safe_url(self) -> str:
        """The URL with any password replaced by ``***`` (for messages)."""
        parts = urlsplit(self.conninfo)
        netloc = re.sub(r":[^:@/]*@", ":***@", parts.netloc)
        query = urlencode([(k, "***" if "password" in k else v) for k, v in parse_qsl(parts.query)])
        return urlunsplit(parts._replace(netloc=netloc, query=query))


def parse_target(url: str) -> PostgresTarget:
    """Split ``schema=`` off a postgresql:// URL and check it names a plain identifier."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == "schema"), None)
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise StateError(
            f"invalid schema name {schema!r} in the state URL (letters, digits, underscore)"
        )
    rest = urlencode([(k, v) for k, v in params if k != "schema"])
    return PostgresTarget(urlunsplit(parts._replace(query=rest)), schema)


def connect(target: PostgresTarget, *, create_schema: bool = False) -> psycopg.Connection[Row]:
    """An autocommit connection with the search path set to the target schema."""
    try:
        conn: psycopg.Connection[Row] = psycopg.connect(
            target.conninfo, autocommit=True, connect_timeout=10
        )
        if target.schema:
            name = sql.Identifier(target.schema)
            if create_schema:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            conn.execute(sql.SQL("SET search_path TO {}").format(name))
    except psycopg.Error as exc:
        raise _state_error(target, exc) from exc
    return conn


class PostgresDatabase(Database):
    """One connection; transactions via psycopg (nested ones become savepoints)."""

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        self._conn = connect(target, create_schema=True)
        self._mutex = threading.RLock()

    @property
    def connection(self) -> psycopg.Connection[Row]:
        return self._conn

    def execute(self, sql_text: str, params: Sequence[object] = ()) -> int:
        with self._guard():
            if not params:
                return self._conn.execute(sql_text.encode()).rowcount
            return self._conn.execute(_adapt(sql_text).encode(), tuple(params)).rowcount

    def executemany(self, sql_text: str, rows: Iterable[Sequence[object]]) -> None:
        with self._guard(), self._conn.cursor() as cur:
            cur.executemany(_adapt(sql_text).encode(), [tuple(r) for r in rows])

    def fetch(self, sql_text: str, params: Sequence[object] = ()) -> list[Row]:
        with self._guard():
            if not params:
                return self._conn.execute(sql_text.encode(), binary=True).fetchall()
            query = _adapt(sql_text).encode()
            return self._conn.execute(query, tuple(params), binary=True).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._guard(), self._conn.transaction():
            yield

    def ts_in(self, value: dt.datetime) -> object:
        return utc(value)

    def ts_out(self, value: Any) -> dt.datetime:
        if not isinstance(value, dt.datetime):
            raise StateError(f"expected a timestamp from PostgreSQL, got {type(value).__name__}")
        return utc(value)

    def write_blob(self, blob: Blob, size: int, pieces: Iterable[bytes | memoryview]) -> None:
        """The blob is appended ``_BLOB_PART`` bytes at a time (a few rewrites of the value,
        instead of holding all of it, and its copy in the driver, at once)."""
        params = blob.params
        self.execute(blob.update("''::bytea"), params)
        append = blob.update(f"{blob.column} || ?")
        part = bytearray()
        written = 0
        for piece in pieces:
            part += piece
            if len(part) >= _BLOB_PART:
                self.execute(append, (bytes(part), *params))
                written += len(part)
                part.clear()
        if part or not written:
            self.execute(append, (bytes(part), *params))
            written += len(part)
        if written != size:
            raise ValueError(f"blob of {written} bytes, {size} announced")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        if self._conn.closed:
            raise StateError(f"the state database {self.target.safe_url} is closed")
        with self._mutex:
            try:
                yield
            except psycopg.Error as exc:
                raise _state_error(self.target, exc) from exc


def _adapt(sql_text: str) -> str:
    return sql_text.replace("%", "%%").replace("?", "%b")


def _state_error(target: PostgresTarget, exc: psycopg.Error) -> StateError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    error = StateError(f"PostgreSQL state at {target.safe_url}: {detail}")
    if isinstance(exc, psycopg.OperationalError):
        error.hint = "check that the server is reachable and the URL (--state / RECONCILER_STATE)"
    return error
