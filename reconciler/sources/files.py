"""File sources: CSV, Parquet and JSON Lines files queried with embedded DuckDB.

Each ``files:`` entry becomes a DuckDB view; the segment's query runs over those views and the
result streams out as Arrow record batches holding only the columns the export needs.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from reconciler.emails import mask_emails_in
from reconciler.errors import SourceError
from reconciler.models import Segment, Source
from reconciler.sources.base import Batch, table_parts
from reconciler.sources.csvfiles import check_dialect, read_csv_sql, row_limit_error
from reconciler.sources.filesets import NATIVE_ENCODINGS, FileSet, codec_name, expand, transcode

T = TypeVar("T")
_FILE_IN_ERROR = re.compile(r"^\s*file\s*=\s*(.+?)\s*$", re.MULTILINE)
_STOP_LINES = ("Possible Solution", "Possible fixes", "The search space", "file =", "LINE ")
_MAX_MESSAGE_LINES = 2
# One DuckDB thread and a 4 MiB CSV buffer (csvfiles.CSV_BUFFER_BYTES) keep a million-row read
# well under 300 MB: the query streams, so more threads mostly add buffers, not speed.
DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {"threads": 1}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ArrowBatch:
    """A record batch whose first column is the email; the others are named."""

    def __init__(self, batch: pa.RecordBatch, names: Sequence[str]) -> None:
        self._batch = batch
        self._index = {name: i + 1 for i, name in enumerate(names)}

    def emails(self) -> pa.Array:
        return self._batch.column(0)

    def values(self, column: str, positions: pa.Array) -> pa.Array:
        return self._batch.column(self._index[column]).take(positions)


class DuckDBReader:
    """A segment query over a source's file views."""

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, query: str, segment: str, source: str
    ) -> None:
        self._connection = connection
        self._query = query
        self._segment = segment
        self._source = source
        relation = self._run(lambda: connection.sql(query))
        if relation is None:
            raise SourceError(segment, source, "the query returns no rows (is it a SELECT?)")
        self._columns = tuple(str(c) for c in relation.columns)

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    def batches(self, email: str, others: Sequence[str], batch_size: int) -> Iterator[Batch]:
        selected = [f"CAST({quote(email)} AS VARCHAR)", *(quote(c) for c in others)]
        sql = f"SELECT {', '.join(selected)} FROM (\n{self._query}\n) AS _segment"
        reader = self._run(lambda: self._connection.sql(sql).to_arrow_reader(batch_size))
        while (batch := self._run(lambda: _next_batch(reader))) is not None:
            yield ArrowBatch(batch, others)

    def _run(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            raise duckdb_error(exc, self._segment, self._source) from exc


def _next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        batch: pa.RecordBatch = reader.read_next_batch()
    except StopIteration:
        return None
    return batch


@contextmanager
def open_files(source: Source, segment: Segment, config_dir: Path) -> Iterator[DuckDBReader]:
    """Views over the source's files in a fresh in-memory DuckDB, and the segment's query."""
    with ExitStack() as stack:
        connection = stack.enter_context(duckdb.connect(":memory:", config=DUCKDB_CONFIG))
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="reconciler-"))
        declared: list[Path] = []
        for table, pattern in (source.files or {}).items():
            table_parts(table, segment.name, source.name)
            files = expand(table, pattern, config_dir, segment.name, source.name)
            declared.extend(files.paths)
            view = _view_sql(files, source, segment.name, Path(scratch))
            try:
                connection.execute(f"CREATE VIEW {quote(table)} AS {view}")
            except duckdb.Error as exc:
                raise duckdb_error(exc, segment.name, source.name) from exc
        _confine(connection, declared, Path(scratch))
        yield DuckDBReader(connection, _segment_query(segment, source), segment.name, source.name)


def _confine(connection: duckdb.DuckDBPyConnection, files: list[Path], scratch: Path) -> None:
    """From now on the connection reads only the source's declared files (and their transcoded
    copies): a segment query cannot read any other file on the machine, write one, or reach
    the network."""
    connection.execute(f"SET allowed_paths = {_list(files)}")
    connection.execute(f"SET allowed_directories = [{literal(str(scratch) + '/')}]")
    connection.execute("SET enable_external_access = false")


def _segment_query(segment: Segment, source: Source) -> str:
    if segment.query is not None:
        return single_select(segment.query, segment.name, source.name)
    if segment.table is None:
        raise SourceError(segment.name, source.name, "the segment has neither query: nor table:")
    parts = table_parts(segment.table, segment.name, source.name)
    return "SELECT * FROM " + ".".join(quote(p) for p in parts)


def single_select(query: str, segment: str, source: str) -> str:
    """``query`` without trailing semicolons and comments, checked to be one SELECT."""
    try:
        tokens = duckdb.tokenize(query)
        while tokens and (
            tokens[-1][1] == duckdb.token_type.comment or query[tokens[-1][0]] == ";"
        ):
            query = query[: tokens.pop()[0]]
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise duckdb_error(exc, segment, source) from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise SourceError(
            segment,
            source,
            "the query must be exactly one SELECT statement",
            hint="a segment's query: returns the rows of its profiles and changes nothing",
        )
    return query.strip()


def _view_sql(files: FileSet, source: Source, segment: str, scratch: Path) -> str:
    paths = list(files.paths)
    if files.format == "parquet":
        return f"SELECT * FROM read_parquet({_list(paths)}, union_by_name = true)"
    if files.format == "json":
        return (
            f"SELECT * FROM read_json({_list(paths)}, format = 'newline_delimited', "
            "union_by_name = true)"
        )
    codec = codec_name(source.encoding, segment, source.name)
    options = ""
    if codec not in NATIVE_ENCODINGS:
        paths = [
            transcode(p, codec, scratch / f"{i}-{p.name}", segment, source.name)
            for i, p in enumerate(paths)
        ]
        codec = "utf-8"
    elif NATIVE_ENCODINGS[codec] is not None:
        options = f", encoding = {literal(str(NATIVE_ENCODINGS[codec]))}"
    delimiter = source.delimiter or ("\t" if files.format == "tsv" else ",")
    quote_char = source.quote or '"'
    check_dialect(paths, delimiter, quote_char, codec, segment, source.name)
    return read_csv_sql(_list(paths), delimiter, quote_char, options)


def _list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(literal(str(p)) for p in paths) + "]"


def duckdb_error(exc: Exception, segment: str, source: str) -> SourceError:
    """A short, masked SourceError from a DuckDB error, naming the file when DuckDB does."""
    text = str(exc)
    found = _FILE_IN_ERROR.search(text)
    if "Maximum line size" in text:
        return row_limit_error(found.group(1) if found else None, segment, source)
    lines = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith(_STOP_LINES):
            break
        if line and not line.startswith("Original Line"):
            lines.append(line)
    message = mask_emails_in(" ".join(lines[:_MAX_MESSAGE_LINES]))
    hint = "check the segment's query: and the source's files:"
    if found:
        message += f" (file {found.group(1)})"
    if "CSV" in text:
        hint = (
            "fix the file: CSV files need a header row, the source's delimiter: (',' by "
            "default, tab for .tsv) and quotes around values holding it, quotes or newlines"
        )
    if "invalid unicode" in text.lower():
        which = f"file {found.group(1)}" if found else "a file"
        hint = (
            f"{which} is not UTF-8; if it is Latin-1 (ISO-8859-1), add 'encoding: latin-1' "
            f"to source '{source}' (any Python codec name works, e.g. cp1252)"
        )
    return SourceError(segment, source, message, hint=hint)
