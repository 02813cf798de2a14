"""A password anywhere in a Source URL, the database part included, is refused by R027 and never
echoed: not by validate, not by the error line of a command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.config.secrets import redact
from tests.config.helpers import problems_of

PASSWORD = "hunter2secret"
URLS = {
    "libpq settings as the database": f"postgresql://crm@db/dbname=crm password={PASSWORD}",
    "quoted setting": f"postgresql://crm@db.internal/dbname=crm password='{PASSWORD}'",
    "percent-encoded": f"postgresql://crm@db.internal/crm%20password%3D{PASSWORD}",
    "a URL as the database": f"postgresql://crm@db.internal/postgresql://crm:{PASSWORD}@db2/crm",
    "ODBC string": f"mssql+pyodbc://crm@dsn/?odbc_connect=DSN%3Dcrm%3BPWD%3D{PASSWORD}",
    "user info": f"postgresql://crm:{PASSWORD}@db.internal/crm",
    "query": f"postgresql://crm@db.internal/crm?password={PASSWORD}",
}
FINE = [
    "postgresql://crm@db.internal/crm?password_env=PGPASSWORD",
    "postgresql://crm@db.internal/passwords",
    "sqlite:///data/password_resets.db",
]


def _source(url: str) -> str:
    return f'kind: Source\nname: warehouse\nurl: "{url}"\n'


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_a_password_anywhere_in_the_url_is_r027_and_never_echoed(url: str) -> None:
    problems = problems_of(_source(url))
    assert "R027" in {p.code for p in problems}
    for problem in problems:
        assert PASSWORD not in problem.message + problem.hint


@pytest.mark.parametrize("url", FINE)
def test_urls_without_a_password_pass_r027(url: str) -> None:
    assert "R027" not in {p.code for p in problems_of(_source(url))}


def test_validate_names_r027_and_prints_no_password(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(_source(URLS["libpq settings as the database"]))
    result = CliRunner().invoke(cli, ["validate", "--config-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "R027" in result.output and PASSWORD not in result.output


@pytest.mark.parametrize(
    "text",
    [
        f"cannot connect to postgresql database dbname=crm password={PASSWORD} at db.internal",
        f"cannot connect: postgresql://crm:{PASSWORD}@db2/crm refused",
        f"odbc: DSN=crm;PWD={PASSWORD};",
    ],
)
def test_error_lines_never_show_a_password(text: str) -> None:
    assert PASSWORD not in redact(text)
