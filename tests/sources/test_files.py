"""File sources over real CSV, Parquet and JSON Lines files, read with embedded DuckDB."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reconciler.errors import SourceDeclarationError, SourceError
from reconciler.sources import read_segment, segment_fingerprint
from tests.sources.conftest import config, export, file_source, segment

QUOTED_CSV = (
    "Email,first_name,city,ltv\r\n"
    '"Jane@Example.com","Jane ""JJ""","Paris, FR",10.5\r\n'
    '" bob@example.org ","Bob","line one\nline two",3\r\n'
    "not-an-email,Nope,Rome,1\r\n"
    ",Empty,Oslo,2\r\n"
    "JANE@example.com,Second Jane,Lyon,4\r\n"
)


def _read(tmp_path: Path, files: dict[str, str], seg_query: str | None = None, **kw: object):
    encoding = kw.pop("encoding", None)
    table = kw.pop("table", None)
    batch_size = kw.pop("batch_size", 50_000)
    exp = export("e", "s", email=str(kw.pop("email", "email")), **kw)
    cfg = config(
        [file_source("src", files, encoding=encoding)],  # type: ignore[arg-type]
        [segment("s", "src", query=seg_query, table=table)],  # type: ignore[arg-type]
        [exp],
    )
    return read_segment(cfg, exp, tmp_path, batch_size=batch_size)  # type: ignore[arg-type]


def test_csv_quoting_newlines_invalid_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(QUOTED_CSV, encoding="utf-8")
    data = _read(
        tmp_path,
        {"people": "people.csv"},
        table="people",
        email="Email",
        first_name="first_name",
        properties={"city": "city", "ltv": "ltv"},
        batch_size=2,
    )
    assert data.columns == ("Email", "first_name", "city", "ltv")
    assert data.rows == 5
    assert data.emails == {"jane@example.com", "bob@example.org"}
    assert (data.invalid, data.duplicates) == (2, 1)
    assert data.invalid_samples == ("n*** (not an email)", "(empty)")
    assert data.duplicate_samples == ("j***@example.com",)
    assert data.properties["jane@example.com"] == {
        "first_name": 'Jane "JJ"',
        "properties": {"city": "Paris, FR", "ltv": 10.5},
    }
    assert data.properties["bob@example.org"]["properties"] == {
        "city": "line one\nline two",
        "ltv": 3.0,
    }
    assert data.fingerprint == segment_fingerprint(data.emails, data.properties)


def test_bom_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfemail,name\r\na@example.com,A\r\n")
    data = _read(tmp_path, {"t": "bom.csv"}, table="t")
    assert data.columns == ("email", "name")
    assert data.emails == {"a@example.com"}


def test_latin1_declared_is_read(tmp_path: Path) -> None:
    (tmp_path / "l1.csv").write_bytes("email,name\nj@example.com,José\n".encode("latin-1"))
    data = _read(tmp_path, {"t": "l1.csv"}, table="t", encoding="latin-1", first_name="name")
    assert data.properties == {"j@example.com": {"first_name": "José"}}


def test_latin1_undeclared_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "l1.csv").write_bytes("email,name\nj@example.com,José\n".encode("latin-1"))
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, {"t": "l1.csv"}, table="t")
    assert "l1.csv" in str(caught.value)
    assert "segment 's' (source 'src')" in str(caught.value)
    assert "encoding: latin-1" in caught.value.hint
    assert "j@example.com" not in str(caught.value)


def test_latin1_after_the_sniffed_sample_is_refused_while_streaming(tmp_path: Path) -> None:
    lines = ["email,name"] + [f"u{i}@example.com,plain" for i in range(40_000)]
    body = ("\n".join(lines) + "\nlate@example.com,Jos").encode() + b"\xe9\n"
    (tmp_path / "late.csv").write_bytes(body)
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, {"t": "late.csv"}, table="t", batch_size=5_000, first_name="name")
    assert "late.csv" in str(caught.value)
    assert "encoding: latin-1" in caught.value.hint


def test_other_encodings_are_transcoded(tmp_path: Path) -> None:
    content = "email,price\nj@example.com,5 €\n"
    (tmp_path / "w.csv.gz").write_bytes(gzip.compress(content.encode("cp1252")))
    data = _read(
        tmp_path, {"t": "w.csv.gz"}, table="t", encoding="cp1252", properties={"p": "price"}
    )
    assert data.properties == {"j@example.com": {"properties": {"p": "5 €"}}}


def test_unknown_encoding_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("email\na@example.com\n")
    with pytest.raises(SourceError, match="unknown encoding 'klingon'"):
        _read(tmp_path, {"t": "a.csv"}, table="t", encoding="klingon")


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "email": ["a@example.com", "b@example.com", None],
            "signup": [dt.date(2024, 1, 2), dt.date(2024, 3, 4), None],
            "ltv": pa.array([Decimal("1.50"), None, Decimal("3")], type=pa.decimal128(10, 2)),
        }
    )
    (tmp_path / "data").mkdir()
    pq.write_table(table, tmp_path / "data" / "profiles.parquet")
    data = _read(
        tmp_path,
        {"profiles": "data/profiles.parquet"},
        "SELECT * FROM profiles WHERE email IS NULL OR email <> 'zzz'; -- trailing comment",
        properties={"signup": "signup", "ltv": "ltv"},
    )
    assert data.rows == 3
    assert data.invalid == 1
    assert data.properties == {
        "a@example.com": {"properties": {"signup": "2024-01-02", "ltv": 1.5}},
        "b@example.com": {"properties": {"signup": "2024-03-04"}},
    }


def test_json_lines(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text(
        '{"email": "a@example.com", "tier": "gold"}\n{"email": "B@example.com", "tier": null}\n'
    )
    data = _read(tmp_path, {"p": "p.jsonl"}, "SELECT * FROM p", properties={"tier": "tier"})
    assert data.emails == {"a@example.com", "b@example.com"}
    assert data.properties["a@example.com"] == {"properties": {"tier": "gold"}}
    assert data.properties["b@example.com"] == {}


def test_glob_over_several_files(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    for part in range(3):
        rows = "".join(f"p{part}u{i}@example.com,{part}\n" for i in range(4))
        (tmp_path / "parts" / f"part-{part}.csv").write_text("email,part\n" + rows)
    (tmp_path / "parts" / "ignored.txt").write_text("nothing")
    data = _read(tmp_path, {"parts": "parts/part-*.csv"}, "SELECT * FROM parts WHERE part >= 1")
    assert data.rows == 8
    assert "p2u3@example.com" in data.emails and "p0u0@example.com" not in data.emails


def test_table_names_are_quoted_not_interpolated(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text("email\na@example.com\n")
    assert _read(tmp_path, {"vip-list": "v.csv"}, table="vip-list").rows == 1
    with pytest.raises(SourceError, match="not a valid table name"):
        _read(tmp_path, {"t": "v.csv"}, table='t"; DROP TABLE t; --')
    with pytest.raises(SourceError, match="not a valid table name"):
        _read(tmp_path, {"bad name": "v.csv"}, table="t")


def test_missing_mapped_columns_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("EmailAddress,first\na@example.com,A\n")
    with pytest.raises(SourceError) as caught:
        _read(
            tmp_path,
            {"t": "a.csv"},
            table="t",
            email="email",
            first_name="first_name",
            properties={"tier": "tier"},
        )
    message = str(caught.value)
    assert "segment 's'" in message and "export 'e'" in message
    assert "fields.email -> 'email'" in message
    assert "fields.first_name -> 'first_name'" in message
    assert "fields.properties.tier -> 'tier'" in message
    assert "columns are: EmailAddress, first" in message


def test_column_names_match_case_insensitively(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("EmailAddress,First\na@example.com,A\n")
    data = _read(tmp_path, {"t": "a.csv"}, table="t", email="emailaddress", first_name="first")
    assert data.properties == {"a@example.com": {"first_name": "A"}}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"t": "missing.csv"}, "no file matches 'missing.csv'"),
        ({"t": "nothing-*.csv"}, "no file matches 'nothing-\\*.csv'"),
        ({"t": "adir.csv"}, "is a directory"),
        ({"t": "notes.xlsx"}, "cannot tell the format"),
        ({"t": "mixed.*"}, "mixes formats"),
    ],
)
def test_bad_paths(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    (tmp_path / "adir.csv").mkdir()
    (tmp_path / "notes.xlsx").write_bytes(b"PK")
    (tmp_path / "mixed.csv").write_text("email\n")
    (tmp_path / "mixed.jsonl").write_text("{}\n")
    with pytest.raises(SourceError, match=expected):
        _read(tmp_path, files, table="t")


def test_malformed_csv_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("email,name\na@example.com,ok\nb@example.com,x,y,z\n")
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, {"t": "bad.csv"}, table="t")
    assert "bad.csv" in str(caught.value)
    assert "b@example.com" not in str(caught.value)
    assert "header row" in caught.value.hint


def test_malformed_row_after_the_sniffed_sample(tmp_path: Path) -> None:
    rows = "".join(f"u{i}@example.com,ok\n" for i in range(30_000))
    (tmp_path / "late.csv").write_text("email,name\n" + rows + "x@example.com,a,b,c\n")
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, {"t": "late.csv"}, table="t")
    assert "late.csv" in str(caught.value)
    assert "x@example.com" not in str(caught.value)


def test_sql_errors_are_source_errors(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("email\na@example.com\n")
    with pytest.raises(SourceError, match=r"segment 's' \(source 'src'\).*nope"):
        _read(tmp_path, {"t": "a.csv"}, "SELECT * FROM nope")
    with pytest.raises(SourceError, match="syntax error"):
        _read(tmp_path, {"t": "a.csv"}, "SELEC email FROM t")
    for query in ("CREATE TABLE x (a INT)", "SELECT 1; SELECT 2"):
        with pytest.raises(SourceError, match="exactly one SELECT"):
            _read(tmp_path, {"t": "a.csv"}, query)
    assert _read(tmp_path, {"t": "a.csv"}, "SELECT ';' AS x, * FROM t -- all\n;\n").rows == 1


def test_a_query_reads_only_the_declared_files(tmp_path: Path) -> None:
    config_dir = tmp_path / "exports"
    config_dir.mkdir()
    (config_dir / "a.csv").write_text("email\na@example.com\n")
    (config_dir / "undeclared.csv").write_text("email\nhidden@example.com\n")
    (tmp_path / "outside.csv").write_text("email\nsecret@example.com\n")
    for other in (tmp_path / "outside.csv", config_dir / "undeclared.csv"):
        with pytest.raises(SourceError) as caught:
            _read(config_dir, {"t": "a.csv"}, f"SELECT * FROM read_csv('{other}')")
        assert "segment 's' (source 'src')" in str(caught.value)
        assert "@example.com" not in str(caught.value)
    assert _read(config_dir, {"t": "a.csv"}, "SELECT * FROM t").rows == 1


def test_fingerprint_from_duckdb_matches_python(tmp_path: Path) -> None:
    rows = "".join(f"U{i}@example.com\n" for i in range(500)) + "u1@example.com\n"
    (tmp_path / "a.csv").write_text("email\n" + rows)
    data = _read(tmp_path, {"t": "a.csv"}, table="t", batch_size=64)
    assert (len(data.emails), data.duplicates) == (500, 1)
    assert data.fingerprint == segment_fingerprint(data.emails)
    assert data.fingerprint.startswith("1f4-")


def test_empty_segment(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("email,name\na@example.com,A\n")
    data = _read(tmp_path, {"t": "a.csv"}, "SELECT * FROM t WHERE false", first_name="name")
    assert (data.rows, data.emails, data.properties, data.invalid) == (0, frozenset(), {}, 0)
    assert data.fingerprint == "0-0000000000000000" == segment_fingerprint([])
    assert _read(tmp_path, {"t": "a.csv"}, "SELECT * FROM t WHERE false").emails == frozenset()


@pytest.mark.parametrize("encoding", ["base64", "rot13", "zlib", "idna", "undefined"])
def test_codecs_that_are_not_character_sets_are_refused(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "a.csv").write_text("email\na@example.com\n")
    with pytest.raises(SourceDeclarationError) as caught:
        _read(tmp_path, {"t": "a.csv"}, table="t", encoding=encoding)
    assert f"unknown encoding {encoding!r}" in str(caught.value)
    assert "encoding: of source 'src'" in caught.value.hint
