"""SQL sources through SQLAlchemy: real SQLite files and the local PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from reconciler.errors import SourceError
from reconciler.sources import SegmentData, read_segment
from tests.sources.conftest import PG_DSN, PG_URL, config, export, segment, url_source

PROFILES = [
    ("jane@example.com", "Jane", dt.date(2024, 5, 1), 120.5, "gold"),
    ("  BOB@example.org", "Bob", dt.date(2023, 1, 9), 0.0, None),
    ("bad address", "Nope", None, 5.0, "gold"),
    ("Jane@Example.com", "Second", None, 9.0, "gold"),
    ("zoe%sign@example.net", "Zoe", dt.date(2020, 2, 2), 7.25, "silver"),
]


def _read(url: str, query: str | None = None, table: str | None = None, **fields: object):
    exp = export("e", "s", **fields)  # type: ignore[arg-type]
    cfg = config([url_source("db", url)], [segment("s", "db", query=query, table=table)], [exp])
    return read_segment(cfg, exp, Path("."), batch_size=2)


@pytest.fixture()
def sqlite_dir(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute('CREATE TABLE "vip-list" (email TEXT, first TEXT, n INTEGER)')
        db.executemany(
            'INSERT INTO "vip-list" VALUES (?, ?, ?)',
            [("a@example.com", "A", 1), ("B@example.com", "B", 2), (None, "C", 3)],
        )
        db.execute("CREATE TABLE numbers (email INTEGER)")
        db.execute("INSERT INTO numbers VALUES (42)")
    return tmp_path


def test_sqlite_relative_to_config_dir(sqlite_dir: Path) -> None:
    exp = export("e", "s", first_name="first")
    cfg = config(
        [url_source("db", "sqlite:///crm.db")], [segment("s", "db", table="vip-list")], [exp]
    )
    data = read_segment(cfg, exp, sqlite_dir)
    assert data.columns == ("email", "first", "n")
    assert data.emails == {"a@example.com", "b@example.com"}
    assert data.invalid == 1 and data.invalid_samples == ("(empty)",)
    assert data.properties["b@example.com"] == {"first_name": "B"}


def test_sqlite_non_text_email_column_is_invalid(sqlite_dir: Path) -> None:
    exp = export("e", "s")
    cfg = config(
        [url_source("db", "sqlite:///crm.db")], [segment("s", "db", table="numbers")], [exp]
    )
    data = read_segment(cfg, exp, sqlite_dir)
    assert (data.rows, data.invalid, data.emails) == (1, 1, frozenset())


def test_unknown_driver_is_explained() -> None:
    with pytest.raises(SourceError, match="no database driver for 'nosuchdb'") as caught:
        _read("nosuchdb://user@host/db", table="t")
    assert "install" in caught.value.hint


def test_bad_urls() -> None:
    with pytest.raises(SourceError, match="not a valid SQLAlchemy URL"):
        _read("not a url", table="t")
    with pytest.raises(SourceError, match="contains a password") as caught:
        _read("postgresql://u:secret@127.0.0.1/test", table="t")
    assert "secret" not in str(caught.value)


@pytest.fixture(scope="module")
def pg_profiles(pg_schema: str) -> Iterator[str]:
    with psycopg.connect(PG_DSN, autocommit=True) as db:
        db.execute(
            f'CREATE TABLE "{pg_schema}".profiles (email text, first_name text, '
            "signup date, ltv numeric(10, 2), tier text)"
        )
        with db.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{pg_schema}".profiles VALUES (%s, %s, %s, %s, %s)', PROFILES
            )
    yield pg_schema


def _assert_profiles(data: SegmentData) -> None:
    assert data.rows == 5
    assert data.emails == {"jane@example.com", "bob@example.org", "zoe%sign@example.net"}
    assert (data.invalid, data.duplicates) == (1, 1)
    assert data.properties["jane@example.com"] == {
        "first_name": "Jane",
        "properties": {"signup": "2024-05-01", "ltv": 120.5, "tier": "gold"},
    }
    assert data.properties["bob@example.org"] == {
        "first_name": "Bob",
        "properties": {"signup": "2023-01-09", "ltv": 0.0},
    }


@pytest.mark.postgres
def test_postgres_table_and_query_agree(pg_profiles: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_TEST_PG_PASSWORD", "unused-with-trust-auth")
    url = f"{PG_URL}?password_env=RECON_TEST_PG_PASSWORD"
    props = {"signup": "signup", "ltv": "ltv", "tier": "tier"}
    by_table = _read(
        url, table=f"{pg_profiles}.profiles", first_name="first_name", properties=props
    )
    query = f"SELECT * FROM \"{pg_profiles}\".profiles WHERE email LIKE '%%' OR email IS NULL;"
    by_query = _read(url, query=query, first_name="first_name", properties=props)
    for data in (by_table, by_query):
        _assert_profiles(data)
    assert by_table.fingerprint == by_query.fingerprint
    assert by_table.columns == ("email", "first_name", "signup", "ltv", "tier")


@pytest.mark.postgres
def test_postgres_missing_password_variable(
    pg_profiles: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECON_TEST_NO_SUCH_VAR", raising=False)
    with pytest.raises(SourceError, match=r"RECON_TEST_NO_SUCH_VAR.*is not set"):
        _read(f"{PG_URL}?password_env=RECON_TEST_NO_SUCH_VAR", table=f"{pg_profiles}.profiles")


@pytest.mark.postgres
def test_postgres_unreachable_port_and_wrong_database(pg_profiles: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(SourceError, match=rf"cannot connect to .*127\.0\.0\.1:{free_port}"):
        _read(f"postgresql+psycopg://postgres@127.0.0.1:{free_port}/test", table="t")
    with pytest.raises(SourceError, match=r"cannot connect.*recon_no_such_db"):
        _read("postgresql+psycopg://postgres@127.0.0.1:5432/recon_no_such_db", table="t")
    with pytest.raises(SourceError, match=r"cannot connect.*recon_no_such_role"):
        _read("postgresql+psycopg://recon_no_such_role@127.0.0.1:5432/test", table="t")


@pytest.mark.postgres
def test_postgres_query_errors(pg_profiles: str) -> None:
    with pytest.raises(SourceError, match=r"the query failed: .*does not exist"):
        _read(PG_URL, table=f"{pg_profiles}.missing")
    failing = (
        "SELECT concat('u', g, '@example.com') AS email, 1 / (g - 5) AS x "
        "FROM generate_series(1, 10) AS g"
    )
    with pytest.raises(SourceError, match="division by zero"):
        _read(PG_URL, query=failing)
    with pytest.raises(SourceError) as caught:
        _read(PG_URL, query=f'SELECT * FROM "{pg_profiles}".profiles', email="mail")
    assert "fields.email -> 'mail'" in str(caught.value)
    assert "email, first_name, signup, ltv, tier" in str(caught.value)
