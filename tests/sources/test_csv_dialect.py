"""CSV dialects: delimiter: and quote: of a file source, and a located hint for another one."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from reconciler.errors import SourceError
from reconciler.models import Source
from reconciler.sources import read_segment
from tests.sources.conftest import config, export, segment


def _read(tmp_path: Path, name: str, **dialect: str) -> object:
    source = Source(kind="Source", name="src", files={"t": name}, **dialect)  # type: ignore[arg-type]
    exp = export("e", "s", first_name="name")
    cfg = config([source], [segment("s", "src", table="t")], [exp])
    return read_segment(cfg, exp, tmp_path)


def test_semicolon_file_without_delimiter_gets_the_hint(tmp_path: Path) -> None:
    (tmp_path / "eu.csv").write_text("email;name\na@example.com;Ann\n")
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, "eu.csv")
    assert "source 'src'" in str(caught.value)
    assert "looks semicolon-separated" in str(caught.value)
    assert caught.value.hint == "add `delimiter: \";\"` to source 'src'"


def test_semicolon_file_with_delimiter_is_read(tmp_path: Path) -> None:
    (tmp_path / "eu.csv").write_text('email;name\na@example.com;"Ann; the first"\n')
    data = _read(tmp_path, "eu.csv", delimiter=";")
    assert data.properties == {"a@example.com": {"first_name": "Ann; the first"}}  # type: ignore[attr-defined]


def test_quote_character(tmp_path: Path) -> None:
    (tmp_path / "q.csv.gz").write_bytes(gzip.compress(b"email|name\na@example.com|'A|B'\n"))
    data = _read(tmp_path, "q.csv.gz", delimiter="|", quote="'")
    assert data.properties == {"a@example.com": {"first_name": "A|B"}}  # type: ignore[attr-defined]


def test_tab_file_named_csv_gets_the_tab_hint(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("email\tname\na@example.com\tAnn\n")
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, "t.csv")
    assert caught.value.hint == "add `delimiter: \"\\t\"` to source 'src'"


def test_a_single_column_file_is_fine(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("email\na@example.com\n")
    exp = export("e", "s")
    source = Source(kind="Source", name="src", files={"t": "one.csv"})
    cfg = config([source], [segment("s", "src", table="t")], [exp])
    assert read_segment(cfg, exp, tmp_path).emails == {"a@example.com"}


def test_same_delimiter_and_quote_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("email\na@example.com\n")
    with pytest.raises(SourceError, match="are the same character"):
        _read(tmp_path, "a.csv", delimiter="'", quote="'")
