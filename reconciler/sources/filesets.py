"""The files behind a file source table: glob expansion, format and CSV encoding."""

from __future__ import annotations

import codecs
import glob
import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from reconciler.errors import SourceDeclarationError

Format = Literal["csv", "tsv", "parquet", "json"]
_COMPRESSION = (".gz", ".zst")
_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
# Python codec name -> DuckDB CSV reader encoding; other encodings are transcoded first.
NATIVE_ENCODINGS = {"utf-8": None, "utf-8-sig": None, "iso8859-1": "latin-1", "utf-16": "utf-16"}


@dataclass(frozen=True)
class FileSet:
    """The files of one table, all of one format."""

    table: str
    pattern: str
    paths: tuple[Path, ...]
    format: Format


def expand(table: str, pattern: str, config_dir: Path, segment: str, source: str) -> FileSet:
    """The readable files ``pattern`` names (relative to ``config_dir``), all of one format."""
    full = config_dir / pattern
    if glob.has_magic(pattern):
        found = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
        paths = tuple(p for p in found if p.is_file())
    else:
        paths = (full,) if full.exists() else ()
    if not paths:
        raise SourceDeclarationError(
            segment,
            source,
            f"no file matches {pattern!r} (table '{table}', looked in {config_dir.absolute()})",
            hint=f"fix files: {table}: in source '{source}'; paths are relative to the "
            "config directory",
        )
    for path in paths:
        _check_readable(path, segment, source)
    formats = {file_format(p, segment, source) for p in paths}
    if len(formats) > 1:
        raise SourceDeclarationError(
            segment,
            source,
            f"{pattern!r} (table '{table}') mixes formats: {', '.join(sorted(formats))}",
            hint="give each format its own table name under files:",
        )
    return FileSet(table, pattern, paths, formats.pop())


def file_format(path: Path, segment: str, source: str) -> Format:
    name = path.name.lower()
    for suffix in _COMPRESSION:
        name = name.removesuffix(suffix)
    found = _FORMATS.get(os.path.splitext(name)[1])
    if found is None:
        raise SourceDeclarationError(
            segment,
            source,
            f"cannot tell the format of file {path}",
            hint="name files *.csv, *.tsv, *.parquet or *.jsonl (optionally .gz)",
        )
    return found


def _check_readable(path: Path, segment: str, source: str) -> None:
    if path.is_dir():
        raise SourceDeclarationError(segment, source, f"{path} is a directory, not a file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise SourceDeclarationError(
            segment, source, f"cannot read file {path}: {exc.strerror or exc}"
        ) from exc


# Text codecs Python has that are not character sets of a file (they transform text, or fail).
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "charmap"}
)


def text_codec(encoding: str | None) -> str | None:
    """Python's canonical name of the character set ``encoding`` (UTF-8 when unset), or None
    when it is unknown or not a character set (``base64``, ``rot13``, ``zlib``, ``idna``...)."""
    try:
        info = codecs.lookup(encoding or "utf-8")
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def codec_name(encoding: str | None, segment: str, source: str) -> str:
    """Python's canonical name of ``encoding`` (UTF-8 when unset)."""
    found = text_codec(encoding)
    if found is None:
        raise SourceDeclarationError(
            segment,
            source,
            f"unknown encoding {encoding!r}: not a character set of text files",
            hint=f"fix encoding: of source '{source}': a character set such as utf-8, "
            "latin-1, cp1252 or utf-16",
        )
    return found


def transcode(path: Path, codec: str, target: Path, segment: str, source: str) -> Path:
    """Copy ``path`` decoded with ``codec`` into ``target`` as UTF-8; return ``target``."""
    compressed = path.name.lower().endswith(".gz")
    target = target.with_name(target.name.removesuffix(".gz").removesuffix(".GZ"))
    try:
        with (
            _open_text(path, codec, compressed) as reader,
            target.open("w", encoding="utf-8", newline="") as writer,
        ):
            shutil.copyfileobj(reader, writer, 1 << 20)
    except UnicodeDecodeError as exc:
        raise SourceDeclarationError(
            segment,
            source,
            f"file {path} is not valid {codec} ({exc.reason})",
            hint=f"fix encoding: in source '{source}'",
        ) from exc
    return target


def _open_text(path: Path, codec: str, compressed: bool) -> TextIO:
    if compressed:
        return gzip.open(path, "rt", encoding=codec, newline="")
    return path.open(encoding=codec, newline="")
