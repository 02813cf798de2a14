"""SQL sources: any SQLAlchemy URL; the query runs in the database, rows stream out in batches.

The password never sits in the URL: ``?password_env=NAME`` names the environment variable that
holds it, and that parameter is removed before connecting. Warehouse dialects (Snowflake,
BigQuery, Databricks, Trino, Redshift) come with the package extras of the same names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, Row
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from reconciler.emails import mask_emails_in
from reconciler.errors import SourceError
from reconciler.models import Segment, Source
from reconciler.sources.base import Batch, strip_query, table_parts
from reconciler.sources.sqlite import (
    REFUSED_HINT,
    allow_reads_only,
    database_file,
    read_only_engine,
)

T = TypeVar("T")
PASSWORD_ENV = "password_env"
CONNECT_TIMEOUT_SECONDS = 10
EXTRAS = {
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "trino": "trino",
    "redshift": "redshift",
}


class RowBatch:
    """A batch of DB-API rows (tuples); columns are picked out by position."""

    def __init__(self, rows: Sequence[Row[Any]], email: int, index: dict[str, int]) -> None:
        self._rows = rows
        self._email = email
        self._index = index

    def emails(self) -> pa.Array:
        column = self._email
        return pa.array([_text(row[column]) for row in self._rows], type=pa.string())

    def values(self, column: str, positions: pa.Array) -> list[object]:
        index = self._index[column]
        return [self._rows[p][index] for p in positions.to_pylist()]


def _text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


class SqlReader:
    """An executing query on a server-side cursor."""

    def __init__(self, result: CursorResult[Any], segment: str, source: str) -> None:
        self._result = result
        self._segment = segment
        self._source = source
        self._columns = tuple(map(str, result.keys()))

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    def batches(self, email: str, others: Sequence[str], batch_size: int) -> Iterator[Batch]:
        index = {name: self._columns.index(name) for name in others}
        position = self._columns.index(email)
        while rows := self._run(lambda: self._result.fetchmany(batch_size)):
            yield RowBatch(rows, position, index)

    def _run(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except SQLAlchemyError as exc:
            raise SourceError(
                self._segment, self._source, f"reading the rows failed: {driver_message(exc)}"
            ) from exc


@contextmanager
def open_sql(source: Source, segment: Segment, config_dir: Path) -> Iterator[SqlReader]:
    """Connect, start the segment's query on a server-side cursor, yield its reader."""
    url = engine_url(source, segment.name, config_dir)
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        engine = read_only_engine(database_file(url, config_dir, segment.name, source.name))
    else:
        engine = _engine(url, segment.name, source.name)
    try:
        with _connect(engine, url, segment.name, source.name) as connection:
            query = _segment_query(segment, source, engine)
            if sqlite:
                allow_reads_only(connection)
            result = _execute(connection, query, segment.name, source.name)
            yield SqlReader(result, segment.name, source.name)
    finally:
        engine.dispose()


def engine_url(source: Source, segment: str, config_dir: Path) -> URL:
    """The source's URL with the password from ``password_env`` and without that parameter."""
    try:
        url = sa.make_url(source.url or "")
    except ArgumentError as exc:
        raise SourceError(
            segment,
            source.name,
            "url: is not a valid SQLAlchemy URL",
            hint="write it as dialect+driver://user@host:port/database?password_env=NAME",
        ) from exc
    if url.password:
        raise SourceError(
            segment,
            source.name,
            "url: contains a password",
            hint="remove it and name an environment variable instead: ?password_env=NAME",
        )
    url = _with_password(url, segment, source.name)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(str(url.database))
        if not database.is_absolute() and not str(database).startswith("file:"):
            url = url.set(database=str(config_dir / database))
    return url


def _with_password(url: URL, segment: str, source: str) -> URL:
    name = url.query.get(PASSWORD_ENV)
    if name is None:
        return url
    if not isinstance(name, str) or not name:
        raise SourceError(segment, source, f"url: gives {PASSWORD_ENV} more than once or empty")
    password = os.environ.get(name)
    if password is None:
        raise SourceError(
            segment,
            source,
            f"environment variable {name} (named by {PASSWORD_ENV} in url:) is not set",
            hint=f"set {name} to the database password before running",
        )
    return url.difference_update_query([PASSWORD_ENV]).set(password=password)


def _engine(url: URL, segment: str, source: str) -> Engine:
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        backend = url.get_backend_name()
        extra = EXTRAS.get(backend)
        hint = (
            f"install the driver: pip install 'klaviyo-segment-reconciler[{extra}]'"
            if extra
            else f"install a SQLAlchemy dialect and driver for '{url.drivername}'"
        )
        raise SourceError(
            segment, source, f"no database driver for '{url.drivername}'", hint=hint
        ) from exc


@contextmanager
def _connect(engine: Engine, url: URL, segment: str, source: str) -> Iterator[Connection]:
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:
        where = f"{url.get_backend_name()} database {url.database or ''} at {url.host or 'local'}"
        port = f":{url.port}" if url.port else ""
        raise SourceError(
            segment,
            source,
            f"cannot connect to {where}{port}: {driver_message(exc)}",
            hint="check the host, port, user, database and the password variable of url:",
        ) from exc
    with connection:
        yield connection


def _segment_query(segment: Segment, source: Source, engine: Engine) -> str:
    if segment.query is not None:
        return strip_query(segment.query)
    if segment.table is None:
        raise SourceError(segment.name, source.name, "the segment has neither query: nor table:")
    preparer = engine.dialect.identifier_preparer
    parts = table_parts(segment.table, segment.name, source.name)
    return "SELECT * FROM " + ".".join(preparer.quote(p) for p in parts)


def _execute(connection: Connection, query: str, segment: str, source: str) -> CursorResult[Any]:
    streaming = connection.execution_options(stream_results=True, no_parameters=True)
    try:
        result = streaming.exec_driver_sql(query)
    except SQLAlchemyError as exc:
        message = driver_message(exc)
        refused = connection.dialect.name == "sqlite" and "authoriz" in message
        raise SourceError(
            segment,
            source,
            f"the query failed: {message}",
            hint=REFUSED_HINT
            if refused
            else "check the segment's query: or table: (it runs in the database as written)",
        ) from exc
    if not result.returns_rows:
        raise SourceError(segment, source, "the query returns no rows (is it a SELECT?)")
    return result


def driver_message(exc: SQLAlchemyError) -> str:
    """The database's own words, short and with emails masked."""
    origin = getattr(exc, "orig", None) or exc
    lines = []
    for line in (raw.strip() for raw in str(origin).splitlines()):
        if line.startswith(("LINE ", "^", "(Background on this error")):
            break
        if line:
            lines.append(line)
    return mask_emails_in(" ".join(lines[:2]) or type(origin).__name__)
