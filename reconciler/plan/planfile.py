"""Plan files: a JSON header and the members as Arrow columns, sealed with a checksum.

Format (version 2), streamed in and out (no member ever becomes a Python object):

- the line ``reconciler-plan 2``;
- the header: its length (8 bytes, big-endian) and the plan as JSON, every field but the
  members; each export's ``adds``, ``updates``, ``removes`` say their row count;
- per export, for ``adds``, ``updates``, ``removes`` in that order: an Arrow IPC stream of
  that table (record batches of 65,536 rows, buffers compressed with zstd; columns as
  :mod:`reconciler.plan.rows` describes), each ending with its end-of-stream marker;
- the SHA-256 digest (32 bytes) of every byte before it.

Two seals: the trailing digest refuses any changed, added or missing byte (an edit, a cut);
the plan's ``checksum`` (in the header) is SHA-256 over the header's JSON without it, then for
each table its position and its Arrow IPC stream uncompressed: the plan's content, which a
plan computed again must match (``seal`` of an in-memory plan needs no file).

A plan file holds email addresses (personal data): it is written readable by its owner only,
through a temporary file created exclusively (0600) next to it and renamed over it; a symbolic
link is never written through. Reading accepts only a regular file and at most 1 GiB of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.ipc as ipc
from pydantic import ValidationError

from reconciler.errors import PlanFileError
from reconciler.plan.model import PLAN_FORMAT_VERSION, ROW_KINDS, ExportPlan, Plan
from reconciler.plan.rows import EMAIL, PROFILE_ID, MemberRows

MAX_PLAN_FILE_BYTES = 1 << 30
MAGIC = b"reconciler-plan 2\n"
BATCH_ROWS = 65_536
_LENGTH = struct.Struct(">Q")
DIGEST_BYTES = 32
_COMPRESSED = ipc.IpcWriteOptions(compression="zstd")
_UNREADABLE = "not a readable plan file"


def plan_checksum(plan: Plan) -> str:
    """SHA-256 over every field of the plan except the checksum itself: the header's JSON
    (pydantic's serializer: fields in declaration order, dicts in insertion order), then
    each member table as an uncompressed Arrow IPC stream, hashed as it is written."""
    h = hashlib.sha256(plan.__pydantic_serializer__.to_json(plan, exclude={"checksum"}))
    for where, rows in _tables(plan):
        h.update(f"\0{where}\0".encode())
        _write_stream(_HashSink(h), rows.table, ipc.IpcWriteOptions())
    return h.hexdigest()


def seal(plan: Plan) -> Plan:
    """The same plan with its checksum set."""
    return plan.model_copy(update={"checksum": plan_checksum(plan)})


def _tables(plan: Plan) -> Iterator[tuple[str, MemberRows]]:
    for index, export in enumerate(plan.exports):
        for kind in ROW_KINDS:
            yield f"{index}.{kind}", getattr(export, kind)


class _HashSink:
    """A write-only file that hashes what it is given (and writes it to ``fh``, if any)."""

    closed = False

    def __init__(self, h: Any, fh: IO[bytes] | None = None) -> None:
        self._h = h
        self._fh = fh

    def write(self, data: bytes) -> int:
        self._h.update(data)
        if self._fh is not None:
            self._fh.write(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: every write goes straight to the hash and the file."""

    def close(self) -> None:
        self.closed = True


def _write_stream(sink: object, table: pa.Table, options: ipc.IpcWriteOptions) -> None:
    with ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema, options=options) as writer:
        writer.write_table(table, max_chunksize=BATCH_ROWS)


def write_plan(plan: Plan, path: Path) -> None:
    """Write ``plan`` (sealed) to ``path``, owner-readable only, atomically.

    The content goes to a new file (``O_EXCL``, mode 0600, a random name in the target's
    directory: a leftover or planted temporary file is never reused), then replaces ``path``.
    """
    sealed = seal(plan) if not plan.checksum else plan
    _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot write the plan file ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_content(fh, sealed)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot write the plan file ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _write_content(fh: IO[bytes], plan: Plan) -> None:
    h = hashlib.sha256()
    sink = _HashSink(h, fh)
    header = plan.__pydantic_serializer__.to_json(plan)
    sink.write(MAGIC + _LENGTH.pack(len(header)) + header)
    for _, rows in _tables(plan):
        _write_stream(sink, rows.table, _COMPRESSED)
    fh.write(h.digest())


def _check_target(path: Path) -> None:
    if path.is_symlink():
        raise PlanFileError(
            f"{path}: is a symbolic link; a plan file is never written through one "
            "(give --out a path that is not a link)"
        )
    if path.exists() and not path.is_file():
        raise PlanFileError(f"{path}: exists and is not a regular file")


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """``path`` open for reading if it is a regular file of at most the limit (no FIFO, no
    device), and its size."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    with open(os.open(path, flags), "rb") as fh:  # non-blocking: opening a FIFO cannot hang
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PlanFileError(
                f"{path}: not a regular file; a plan file is what 'reconciler plan --out' wrote"
            )
        if info.st_size > MAX_PLAN_FILE_BYTES:
            raise PlanFileError(
                f"{path}: plan file is {info.st_size:,} bytes, over the 1 GiB limit"
            )
        yield fh, info.st_size


class _Reader:
    """The file's content before its trailing digest, hashed as it is read (an Arrow stream
    reads exactly its own messages: it never reads ahead into what follows)."""

    closed = False

    def __init__(self, fh: IO[bytes], size: int, head: bytes) -> None:
        self._fh = fh
        self.left = size - DIGEST_BYTES - len(head)  # ``head``: read already
        self.h = hashlib.sha256(head)

    def read(self, size: int | None = -1) -> bytes:
        wanted = self.left if size is None or size < 0 else min(size, self.left)
        data = self._fh.read(wanted)
        self.left -= len(data)
        self.h.update(data)
        return data

    def exact(self, size: int) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise _CutShort
        return data

    def drain(self) -> None:
        """Read (and hash) what is left, a MiB at a time."""
        while self.left and self.read(1 << 20):
            continue

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


class _CutShort(Exception):
    """The file ended before a part it announced (a truncated plan file)."""


def read_plan(path: Path) -> Plan:
    """Read and verify a plan file; raises PlanFileError when unreadable or tampered with."""
    try:
        with _opened(path) as (fh, size):
            plan = _read_sealed(path, fh, size)
    except PlanFileError:
        raise
    except (OSError, ValueError, RecursionError, pa.ArrowException) as exc:
        raise PlanFileError(f"{path}: {_UNREADABLE} ({type(exc).__name__})") from None
    if plan.checksum != plan_checksum(plan):
        raise PlanFileError(
            f"{path}: checksum mismatch: the plan's content does not match its checksum "
            "(edited and sealed again?); run 'reconciler plan --out FILE' again"
        )
    return plan


def _read_sealed(path: Path, fh: IO[bytes], size: int) -> Plan:
    """The plan if the file's bytes match its trailing digest. When its content cannot be
    read, the digest tells a modified or cut file from one this version cannot read."""
    if fh.read(len(MAGIC)) != MAGIC:
        raise PlanFileError(
            f"{path}: not a plan file of format version {PLAN_FORMAT_VERSION} "
            "(written by 'reconciler plan --out'; a plan file of an earlier version: plan again)"
        )
    if size < len(MAGIC) + _LENGTH.size + DIGEST_BYTES:
        raise PlanFileError(f"{path}: {_UNREADABLE} (cut short)")
    reader = _Reader(fh, size, MAGIC)
    try:
        plan = _read_content(path, reader)
    except (_CutShort, PlanFileError, OSError, ValueError, RecursionError, pa.ArrowException):
        reader.drain()
        _check_digest(path, reader, fh)
        raise
    if reader.left:
        reader.drain()
        _check_digest(path, reader, fh)
        raise PlanFileError(f"{path}: {_UNREADABLE} (data after its last table)")
    _check_digest(path, reader, fh)
    return plan


def _check_digest(path: Path, reader: _Reader, fh: IO[bytes]) -> None:
    if fh.read(DIGEST_BYTES + 1) != reader.h.digest():
        raise PlanFileError(
            f"{path}: checksum mismatch: the plan file was modified or cut short after it "
            "was written; run 'reconciler plan --out FILE' again"
        )


def _read_content(path: Path, reader: _Reader) -> Plan:
    (length,) = _LENGTH.unpack(reader.exact(_LENGTH.size))
    if length > reader.left:
        raise _CutShort
    raw = json.loads(reader.exact(length))
    if not isinstance(raw, dict) or raw.get("version") != PLAN_FORMAT_VERSION:
        raise PlanFileError(f"{path}: not a plan file of format version {PLAN_FORMAT_VERSION}")
    counts = _row_counts(path, raw)
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path}: malformed plan file at '{where}': {first['msg']}") from None
    exports = [_with_rows(path, reader, e, c) for e, c in zip(plan.exports, counts, strict=True)]
    return plan.model_copy(update={"exports": tuple(exports)})


def _row_counts(path: Path, raw: dict[str, Any]) -> list[dict[str, int]]:
    """Each export's row count per kind, taken out of the header (its tables follow it)."""
    exports = raw.get("exports")
    if not isinstance(exports, list):
        raise PlanFileError(f"{path}: malformed plan file at 'exports': not a list")
    counts: list[dict[str, int]] = []
    for index, export in enumerate(exports):
        found: dict[str, int] = {}
        for kind in ROW_KINDS:
            entry = export.pop(kind, None) if isinstance(export, dict) else None
            rows = entry.get("rows") if isinstance(entry, dict) else None
            if type(rows) is not int or rows < 0:
                raise PlanFileError(
                    f"{path}: malformed plan file at 'exports.{index}.{kind}': no row count"
                )
            found[kind] = rows
        counts.append(found)
    return counts


def _with_rows(
    path: Path, reader: _Reader, export: ExportPlan, counts: dict[str, int]
) -> ExportPlan:
    tables: dict[str, MemberRows] = {}
    for kind in ROW_KINDS:
        with ipc.open_stream(pa.PythonFile(reader, mode="r")) as stream:
            table = stream.read_all()
        _check_table(path, export.name, kind, table, counts[kind])
        tables[kind] = MemberRows(table)
    return export.model_copy(update=tables)


def _check_table(path: Path, name: str, kind: str, table: pa.Table, rows: int) -> None:
    wanted = [EMAIL, PROFILE_ID] if kind == "removes" else [EMAIL]
    fine = table.num_rows == rows and all(
        n in table.column_names and table.schema.field(n).type == pa.string() for n in wanted
    )
    if not fine:
        raise PlanFileError(
            f"{path}: malformed plan file: the {kind} of export '{name}' do not match its header"
        )
