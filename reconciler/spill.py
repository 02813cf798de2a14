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

BATCH = 65_536  # strings a batch of the file (about 2 MB of emails)
DIRECTORY: str | None = None  # where the files go (None: the system's, ``TMPDIR``); 0600 each
_FIELD = "v"


class SpilledStrings:
    """A string column (no nulls) kept in an unlinked private file."""

    def __init__(self, strings: pa.StringArray | pa.ChunkedArray) -> None:
        handle, path = tempfile.mkstemp(prefix="reconciler-", suffix=".arrow", dir=DIRECTORY)
        os.close(handle)
        try:
            schema = pa.schema([(_FIELD, pa.string())])
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
                for start in range(0, len(strings), BATCH):  # every batch full but the last
                    piece = strings.slice(start, BATCH)
                    if isinstance(piece, pa.ChunkedArray):  # one batch (a copy of its rows)
                        piece = piece.combine_chunks()
                    writer.write_batch(pa.record_batch([piece], schema=schema))
            self._file = pa.OSFile(path, "rb")
        finally:
            os.unlink(path)
        self._reader = pa.ipc.open_file(self._file)
        self._count = len(strings)
        if self._reader.num_record_batches != -(-self._count // BATCH):  # every batch full
            raise RuntimeError(f"{self._count} strings spilled in an unexpected number of batches")

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
            return pa.array([], pa.string())
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
        return pa.chunked_array(taken, pa.string())


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
