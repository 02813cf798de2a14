"""CSV files for DuckDB: the dialect (delimiter, quote), the row size limit, located errors.

DuckDB's CSV reader drops an unterminated last row longer than its buffer *silently* unless
``max_line_size`` is at most half the buffer; with that setting every over-long row, wherever
it is, fails the read. The limit is ours and documented, and the error names the file and the
line (DuckDB's own line number is not reliable for a row that spans buffers).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from reconciler.errors import SourceDeclarationError

MAX_ROW_BYTES = 2 * 1024 * 1024  # the longest CSV row (line) a source may hold
CSV_BUFFER_BYTES = 2 * MAX_ROW_BYTES  # must stay >= 2x the limit (see the module docstring)
SCAN_CHUNK = 1 << 20
CANDIDATES = (",", ";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def shown(char: str) -> str:
    """A delimiter as YAML text: ``";"``, ``"\\t"``."""
    return '"\\t"' if char == "\t" else f'"{char}"'


def read_csv_sql(paths: str, delimiter: str, quote: str, options: str) -> str:
    """The ``read_csv`` call over the DuckDB list literal ``paths``."""
    return (
        f"SELECT * FROM read_csv({paths}, header = true, skip = 0, "
        f"buffer_size = {CSV_BUFFER_BYTES}, max_line_size = {MAX_ROW_BYTES}, "
        f"delim = {_literal(delimiter)}, quote = {_literal(quote)}, "
        f"escape = {_literal(quote)}, union_by_name = true{options})"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_dialect(
    paths: Sequence[Path], delimiter: str, quote: str, codec: str, segment: str, source: str
) -> None:
    """Refuse a file whose header row is plainly separated by another delimiter."""
    if delimiter == quote:
        raise SourceDeclarationError(
            segment,
            source,
            f"delimiter: and quote: are the same character ({shown(delimiter)})",
            hint=f"fix delimiter: or quote: of source '{source}'",
        )
    for path in paths:
        header = _unquoted(_first_line(path, codec), quote)
        if delimiter in header:
            continue
        found = [c for c in CANDIDATES if c != delimiter and c in header]
        if len(found) == 1:
            other = found[0]
            raise SourceDeclarationError(
                segment,
                source,
                f"file {path} looks {_NAMES[other]}-separated (`{other}`): its header row has "
                f"no {shown(delimiter)}, so it would be read as one column",
                hint=f"add `delimiter: {shown(other)}` to source '{source}'",
            )


def _unquoted(line: str, quote: str) -> str:
    q = re.escape(quote)
    return re.sub(f"{q}[^{q}]*{q}", "", line)


def _first_line(path: Path, codec: str) -> str:
    with _open_text(path, codec) as handle:
        return handle.readline(MAX_ROW_BYTES).lstrip("\ufeff").rstrip("\r\n")


def _open_text(path: Path, codec: str) -> TextIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding=codec, errors="replace", newline="")
    return path.open(encoding=codec, errors="replace", newline="")


def _open_binary(path: Path) -> BinaryIO | gzip.GzipFile:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def long_line(path: Path) -> int | None:
    """The number of the first line of ``path`` longer than :data:`MAX_ROW_BYTES`, if any."""
    number, length = 1, 0
    with _open_binary(path) as handle:
        while chunk := handle.read(SCAN_CHUNK):
            start = 0
            while (end := chunk.find(b"\n", start)) != -1:
                if length + end - start > MAX_ROW_BYTES:
                    return number
                number, length, start = number + 1, 0, end + 1
            length += len(chunk) - start
            if length > MAX_ROW_BYTES:
                return number
    return None


def row_limit_error(file: str | None, segment: str, source: str) -> SourceDeclarationError:
    """The error for a row longer than the limit, with its line when it can be found."""
    where = "a file"
    if file:
        line = _located_line(Path(file))
        where = f"file {file}, line {line}" if line else f"file {file}"
    return SourceDeclarationError(
        segment,
        source,
        f"{where}: a row is longer than {MAX_ROW_BYTES:,} bytes, the most one CSV row may "
        "hold; the file is not read (no row is skipped)",
        hint="check that line for a missing closing quote; a value that large does not "
        "belong in a Klaviyo profile field (use Parquet or JSON Lines if it must)",
    )


def _located_line(path: Path) -> int | None:
    try:
        return long_line(path)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
