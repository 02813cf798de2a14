"""CSV rows longer than the reader's limit fail the read, located; none is dropped (17.1)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from reconciler.errors import SourceError
from reconciler.sources import read_segment
from reconciler.sources.csvfiles import MAX_ROW_BYTES, long_line
from tests.sources.conftest import config, export, file_source, segment

HEADER = "email,note\n" + "".join(f"u{i}@example.com,x\n" for i in range(3))


def _read(tmp_path: Path, name: str) -> object:
    exp = export("e", "s", properties={"note": "note"})
    cfg = config([file_source("src", {"t": name})], [segment("s", "src", table="t")], [exp])
    return read_segment(cfg, exp, tmp_path)


@pytest.mark.parametrize("newline", ["", "\n"])
@pytest.mark.parametrize("size", [8_500_000, MAX_ROW_BYTES + 10, 4 * 1024 * 1024 + 100])
def test_a_long_last_row_fails_the_read_with_its_line(
    tmp_path: Path, size: int, newline: str
) -> None:
    (tmp_path / "big.csv").write_text(HEADER + "last@example.com," + "y" * size + newline)
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, "big.csv")
    text = str(caught.value)
    assert "big.csv, line 5" in text
    assert f"{MAX_ROW_BYTES:,} bytes" in text
    assert "last@example.com" not in text


def test_a_long_row_in_the_middle_of_a_gzip_file_fails(tmp_path: Path) -> None:
    body = "email,note\nfirst@example.com," + "y" * 8_500_000 + "\n" + HEADER[11:]
    (tmp_path / "big.csv.gz").write_bytes(gzip.compress(body.encode(), compresslevel=1))
    with pytest.raises(SourceError, match=r"big\.csv\.gz, line 2: a row is longer"):
        _read(tmp_path, "big.csv.gz")


def test_a_quoted_value_over_the_limit_across_lines_fails(tmp_path: Path) -> None:
    half = "y" * (MAX_ROW_BYTES // 2 + 10)
    (tmp_path / "q.csv").write_text(HEADER + f'last@example.com,"{half}\n{half}"')
    with pytest.raises(SourceError, match=r"q\.csv: a row is longer"):
        _read(tmp_path, "q.csv")


def test_a_row_just_under_the_limit_without_newline_is_read(tmp_path: Path) -> None:
    value = "y" * (MAX_ROW_BYTES - 100)
    (tmp_path / "ok.csv").write_text(HEADER + "last@example.com," + value)
    data = _read(tmp_path, "ok.csv")
    assert data.rows == 4  # type: ignore[attr-defined]
    assert data.properties["last@example.com"]["properties"]["note"] == value  # type: ignore[attr-defined]


def test_long_line_finds_the_first_physical_line_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a\n" * 3 + b"b" * (MAX_ROW_BYTES + 1) + b"\nc\n")
    assert long_line(path) == 4
    path.write_bytes(b"a\n" * 3 + b"b" * MAX_ROW_BYTES + b"\nc")
    assert long_line(path) is None


def test_a_json_lines_object_over_duckdbs_limit_fails_the_read(tmp_path: Path) -> None:
    big = '{"email": "last@example.com", "note": "' + "y" * 17_000_000 + '"}'
    (tmp_path / "p.jsonl").write_text('{"email": "a@example.com", "note": "x"}\n' + big)
    with pytest.raises(SourceError) as caught:
        _read(tmp_path, "p.jsonl")
    assert "maximum_object_size" in str(caught.value) and "p.jsonl" in str(caught.value)
    assert "last@example.com" not in str(caught.value)
