"""SQLite sources never write: read-only file, no missing file created, reads only (17.13)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.errors import SourceDeclarationError, SourceError
from reconciler.sources import preview_segment, read_segment
from tests.sources.conftest import config, export, segment, url_source


@pytest.fixture()
def crm(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute("CREATE TABLE people (email TEXT)")
        db.execute("INSERT INTO people VALUES ('a@example.com')")
    return tmp_path


def _read(config_dir: Path, query: str, url: str = "sqlite:///crm.db") -> object:
    exp = export("e", "s")
    cfg = config([url_source("db", url)], [segment("s", "db", query=query)], [exp])
    return read_segment(cfg, exp, config_dir)


def _files(where: Path) -> set[str]:
    return {p.name for p in where.rglob("*")}


@pytest.mark.parametrize(
    "query",
    [
        "VACUUM INTO '{dir}/copy.db'",
        "ATTACH DATABASE '{dir}/attached.db' AS x",
        "SELECT 1; ATTACH DATABASE '{dir}/attached.db' AS x",
        "DELETE FROM people",
        "CREATE TABLE made (x)",
        "PRAGMA journal_mode = WAL",
        "INSERT INTO people SELECT email FROM people RETURNING email",
    ],
)
def test_statements_that_write_are_refused_and_write_nothing(crm: Path, query: str) -> None:
    outside = crm / "outside"
    outside.mkdir()
    before = _files(crm)
    with pytest.raises(SourceError) as caught:
        _read(crm, query.format(dir=outside))
    assert "the query failed" in str(caught.value)
    assert _files(crm) == before
    with sqlite3.connect(crm / "crm.db") as db:
        assert db.execute("SELECT count(*) FROM people").fetchone() == (1,)


def test_refusal_says_why(crm: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _read(crm, f"VACUUM INTO '{crm}/copy.db'")
    assert "read-only SELECT" in caught.value.hint


@pytest.mark.parametrize(
    "url", ["sqlite:///missing.db", "sqlite:///file:missing.db?mode=rwc&uri=true", "sqlite://"]
)
def test_a_missing_database_is_refused_not_created(crm: Path, url: str) -> None:
    before = _files(crm)
    with pytest.raises(SourceDeclarationError):
        _read(crm, "SELECT 1 AS email", url=url)
    assert _files(crm) == before


def test_a_uri_asking_for_write_mode_is_still_read_only(crm: Path) -> None:
    with pytest.raises(SourceError):
        _read(crm, "DELETE FROM people", url="sqlite:///file:crm.db?mode=rw&uri=true")
    with sqlite3.connect(crm / "crm.db") as db:
        assert db.execute("SELECT count(*) FROM people").fetchone() == (1,)


def test_selects_with_functions_and_recursion_still_run(crm: Path) -> None:
    query = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
        "SELECT lower(email) || '' AS email, i FROM people, n"
    )
    data = _read(crm, query)
    assert data.emails == {"a@example.com"}  # type: ignore[attr-defined]
    assert data.rows == 3  # type: ignore[attr-defined]


def test_preview_and_validate_sources_create_nothing(crm: Path) -> None:
    query = f"VACUUM INTO '{crm}/copy.db'"
    exp = export("e", "s")
    cfg = config([url_source("db", "sqlite:///crm.db")], [segment("s", "db", query=query)], [exp])
    with pytest.raises(SourceError):
        preview_segment(cfg, "s", crm)
    (crm / "c.yaml").write_text(
        "kind: Source\nname: db\nurl: sqlite:///nowhere.db\n---\n"
        "kind: Segment\nname: s\nsource: db\nquery: SELECT email FROM people\n---\n"
        "kind: Connection\nname: k\napi_key: {env: KLAVIYO_KEY}\n"
        "type: klaviyo\nconsent: {accepted: true, accepted_by: a, accepted_at: 2024-01-01}\n---\n"
        "kind: Export\nname: e\nsegment: s\nconnection: k\nlist_id: AbC123\n"
        "fields: {email: email}\n"
    )
    result = CliRunner().invoke(cli, ["validate", "--sources", "--config-dir", str(crm)])
    assert "does not exist" in result.output, result.output
    assert not (crm / "copy.db").exists() and not (crm / "nowhere.db").exists()
