"""A large column of strings moved out of memory into a private file, read back in batches.

A plan of ten million members holds the segment's emails (300 MB) from its read to its end,
for a few passes only: the keys made once, the matches checked on the strings, the rows it adds
or updates taken. :class:`SpilledStrings` writes the column to an Arrow IPC file (not memory
mapped: a mapped page read counts in the process's memory) and gives it back a batch at a time
(:meth:`~SpilledStrings.chunks`) or at chosen rows (:meth:`~SpilledStrings.take`: one pass over
the batches those rows fall in, whatever their order).

The file holds email addresses: it is created private (0600) and unlinked as soon as it is
open, so nothing is left behind, even by a killed process; its space is freed when the column is
let go.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from reconciler import chunktake
from reconciler.errors import HintedError

BATCH = 65_536  # strings a batch of the file (about 2 MB of emails)
DIRECTORY: str | None = None  # where the files go (None: the system's, ``TMPDIR``); 0600 each
_FIELD = "v"


class SpillError(HintedError):
    """A column could not be written to its temporary file (no space, no such directory)."""


def _failed(what: str, exc: OSError) -> SpillError:
    return SpillError(
        f"{what} could not be kept in a temporary file ({exc}); free space in the temporary "
        "directory, or point TMPDIR at a larger disk"
    )


class SpillWriter:
    """Strings appended in pieces of any size to a new private file (unlinked at once: only
    this process's handles reach it), then read back as one :class:`SpilledStrings`."""

    def __init__(self, what: str = "a large column", kind: pa.DataType | None = None) -> None:
        self._what = what  # what the strings are, for an error
        self.kind = pa.string() if kind is None else kind
        try:
            handle, path = tempfile.mkstemp(prefix="reconciler-", suffix=".arrow", dir=DIRECTORY)
            os.close(handle)
            try:
                self._sink = pa.OSFile(path, "wb")
                # the same file, read once it is written (Arrow's own file reader would take
                # the file's size now, when it is empty)
                self._source = open(path, "rb")  # noqa: SIM115 (held until the strings go)
            finally:
                os.unlink(path)
        except OSError as exc:
            raise _failed(self._what, exc) from exc
        self._schema = pa.schema([(_FIELD, self.kind)])
        self._writer = pa.ipc.new_file(self._sink, self._schema)
        self._held: list[pa.Array] = []  # fewer than BATCH strings, not written yet
        self._pending = 0  # how many those are
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, strings: pa.Array | pa.ChunkedArray) -> None:
        """Add ``strings`` after those appended before (strings: no nulls; a column of
        another ``kind``, a segment's mapped values, may hold nulls)."""
        chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
        for chunk in chunks:
            while len(chunk):
                part = chunk.slice(0, BATCH - self._pending)
                self._held.append(part)
                self._pending += len(part)
                self._count += len(part)
                chunk = chunk.slice(len(part))
                if self._pending == BATCH:  # every batch full but the last
                    self._write()

    def _write(self) -> None:
        if self._held:
            joined = pa.concat_arrays(self._held) if len(self._held) > 1 else self._held[0]
            try:
                self._writer.write_batch(pa.record_batch([joined], schema=self._schema))
            except OSError as exc:  # a full disk
                raise _failed(self._what, exc) from exc
            self._held, self._pending = [], 0

    def finish(self) -> SpilledStrings:
        """The strings appended, read back from the file (no more may be appended)."""
        self._write()
        try:
            self._writer.close()
            self._sink.close()
        except OSError as exc:
            raise _failed(self._what, exc) from exc
        source = pa.PythonFile(self._source, mode="r")
        return SpilledStrings.opened(source, self._count, self.kind)


class SpilledStrings:
    """A string column (no nulls) kept in an unlinked private file; or a column of another
    type (``kind``: a segment's mapped values, which may hold nulls)."""

    _file: pa.NativeFile
    _reader: pa.ipc.RecordBatchFileReader
    _count: int
    kind: pa.DataType

    def __init__(
        self,
        strings: pa.Array | pa.ChunkedArray,
        what: str = "a large column",
        *,
        typed: bool = False,
    ) -> None:
        writer = SpillWriter(what, strings.type if typed else None)
        writer.append(strings)
        spilled = writer.finish()
        self._file, self._reader, self._count = spilled._file, spilled._reader, spilled._count
        self.kind = spilled.kind

    @classmethod
    def opened(cls, file: pa.NativeFile, count: int, kind: pa.DataType) -> SpilledStrings:
        """The ``count`` values of the IPC file ``file`` (written by :class:`SpillWriter`)."""
        spilled = cls.__new__(cls)
        spilled._file = file
        spilled._reader = pa.ipc.open_file(file)
        spilled._count = count
        spilled.kind = kind
        if spilled._reader.num_record_batches != -(-count // BATCH):  # every batch full
            raise RuntimeError(f"{count} strings spilled in an unexpected number of batches")
        return spilled

    def __len__(self) -> int:
        return self._count

    def chunks(self) -> Iterator[pa.StringArray]:
        """The strings in order, a batch at a time."""
        for index in range(self._reader.num_record_batches):
            batch: pa.StringArray = self._reader.get_batch(index).column(0)
            yield batch

    def take(self, positions: pa.Array) -> pa.StringArray | pa.ChunkedArray:
        """The strings at ``positions`` (any order; a null position gives a null), reading
        only the batches they fall in, each once. Ascending positions (the plan's rows) give
        each batch's strings as a chunk of their own: one copy of the strings taken, no more."""
        if not len(positions):
            return pa.array([], self.kind)
        if chunktake.ascending(positions):
            return self._ascending(positions.cast(pa.int64()))
        where = pc.is_valid(positions)
        rows = positions.filter(where).cast(pa.int64())
        order = pc.sort_indices(rows)
        ascending = rows.take(order)
        found = _scattered(self._ascending(ascending).combine_chunks(), order)
        if positions.null_count == 0:
            return found
        return _spread(found, where)

    def matches(self, strings: pa.StringArray | pa.ChunkedArray, at: pa.Array) -> bool:
        """Whether each of ``strings`` equals the string at ``at`` (where ``at`` is not null),
        checked a batch of the file at a time: the pairs are sorted by their row here, and
        each batch is compared with its own pairs' strings only (no copy of either side in
        the other's order: four bytes a pair, twice, and one batch's pairs at a time)."""
        valid = pc.is_valid(at)
        mine = pc.indices_nonzero(valid).cast(pa.int32())
        rows = at.filter(valid).cast(pa.int32())
        order = pc.sort_indices(rows)
        rows, mine = rows.take(order), mine.take(order)
        del order
        batches = pc.value_counts(pc.divide(rows, pa.scalar(BATCH, pa.int32())))
        placed = 0
        for index, count in zip(
            batches.field(0).to_pylist(), batches.field(1).to_pylist(), strict=True
        ):
            batch = self._reader.get_batch(index).column(0)
            local = pc.subtract(rows.slice(placed, count), pa.scalar(index * BATCH, pa.int32()))
            theirs = mine.slice(placed, count)
            ascending = pc.sort_indices(theirs)  # the strings' side read in its own order
            ours = _taken(strings, theirs.take(ascending))
            same = pc.equal(ours, batch.take(local.take(ascending)))
            if not pc.all(pc.fill_null(same, False)).as_py():
                return False
            placed += count
        return True

    def _ascending(self, rows: pa.Int64Array) -> pa.ChunkedArray:
        """The strings at ``rows`` (ascending), batch by batch (batch ``i`` holds rows
        ``i * BATCH`` on), a chunk a batch."""
        taken: list[pa.Array] = []
        placed = 0
        runs = pc.value_counts(pc.divide(rows, pa.scalar(BATCH, pa.int64())))
        for index, count in zip(runs.field(0).to_pylist(), runs.field(1).to_pylist(), strict=True):
            batch = self._reader.get_batch(index).column(0)
            local = pc.subtract(rows.slice(placed, count), pa.scalar(index * BATCH, pa.int64()))
            taken.append(batch.take(local))
            placed += count
        return pa.chunked_array(taken, self.kind)

    def slice(self, start: int, length: int) -> pa.ChunkedArray:
        """Rows ``start`` to ``start + length``, reading only the batches they are in."""
        stop = min(start + length, self._count)
        pieces: list[pa.Array] = []
        for index in range(start // BATCH, -(-stop // BATCH) if stop > start else 0):
            batch = self._reader.get_batch(index).column(0)
            first = max(start - index * BATCH, 0)
            pieces.append(batch.slice(first, min(stop - index * BATCH, len(batch)) - first))
        return pa.chunked_array(pieces, self.kind)


def _taken(strings: pa.StringArray | pa.ChunkedArray, rows: pa.Array) -> pa.Array:
    """``strings`` at ``rows`` (ascending): a chunked column chunk by chunk, never joined."""
    if isinstance(strings, pa.ChunkedArray):
        return chunktake.take(strings, rows)
    taken: pa.Array = strings.take(rows)
    return taken


def _scattered(values: pa.StringArray, order: pa.Array) -> pa.StringArray:
    """``values`` (in sorted order) back in the order ``order`` sorted them from."""
    back = pc.inverse_permutation(order.cast(pa.int64()))
    placed: pa.StringArray = values.take(back)
    return placed


def _spread(values: pa.StringArray, where: pa.BooleanArray) -> pa.StringArray:
    """``values`` placed at the true flags of ``where``, nulls elsewhere."""
    slots = pc.subtract(pc.cumulative_sum(where.cast(pa.int64())), pa.scalar(1, pa.int64()))
    at = pc.if_else(where, slots, pa.scalar(None, pa.int64()))
    spread: pa.StringArray = values.take(at)
    return spread
