"""Fixtures: the same state tests run on SQLite (tmp_path) and PostgreSQL (a unique schema)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from reconciler.state import SqlStateBackend, open_state

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
_SESSION = f"rtest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
_COUNTER = itertools.count()

RawExecute = Callable[[str], list[tuple[object, ...]]]


def require_postgres() -> None:
    """Skip (fail when CI=true) unless the local PostgreSQL server answers."""
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL at 127.0.0.1:5432 is unreachable ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def state_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A fresh, empty state location: an SQLite file or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield os.path.join(tmp_path, "state.db")
        return
    require_postgres()
    schema = f"{_SESSION}_{next(_COUNTER)}"
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def backend(state_url: str) -> Iterator[SqlStateBackend]:
    with open_state(state_url) as state:
        yield state


@pytest.fixture
def raw(state_url: str) -> RawExecute:
    """Runs one SQL statement on its own connection (committed), bypassing the backend."""

    def execute(statement: str) -> list[tuple[object, ...]]:
        if not state_url.startswith("postgresql://"):
            conn = sqlite3.connect(state_url, isolation_level=None)
            try:
                cur = conn.execute(statement)
                return cur.fetchall()
            finally:
                conn.close()
        base, schema = state_url.split("?schema=")
        with psycopg.connect(base, autocommit=True) as pg:
            pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            pg_cur = pg.execute(statement.encode())
            return pg_cur.fetchall() if pg_cur.description else []

    return execute
