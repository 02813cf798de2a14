"""A column of the membership cache left in the state until asked for, a chunk at a time.

A plan needs a list's emails and profile ids for a few passes only, each over the list in
order: the match with the segment, the members it removes, the list's fingerprint (a sum over
every member's email and id), the departures. So both columns (300 MB each for ten million
members) stay in the state's snapshot, which is read again, a piece at a time, for each pass:
:class:`StoredColumn` is one column of a list as the plan sees it, the snapshot's rows that are
still members (``keep``), then those of members added since (``tail``, few, in memory). The
emails and the ids of one list share ``keep`` and their tails are aligned.

The snapshot must not change while a column is read from it: the membership read that loads them
never compacts the cache, and each pass checks that the snapshot's header is the one loaded (a
changed one is a :class:`~reconciler.errors.StateError`, never a wrong value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

Chunks = Callable[[], Iterator[pa.StringArray]]  # the snapshot's column, in order, by chunk


def _none() -> pa.ChunkedArray:
    return pa.chunked_array([], type=pa.string())


@dataclass(frozen=True)
class StoredColumn:
    """A list's column: the stored snapshot's (``count`` rows, read by ``read``) where
    ``keep`` (None: all of them), then ``tail``."""

    count: int
    read: Chunks
    keep: pa.BooleanArray | None = None
    tail: pa.ChunkedArray = field(default_factory=_none)

    def __len__(self) -> int:
        return self.kept + len(self.tail)

    @cached_property
    def kept(self) -> int:
        """How many of the snapshot's rows are still members (they come first)."""
        return self.count if self.keep is None else int(pc.sum(self.keep).as_py() or 0)

    def chunks(self) -> Iterator[pa.StringArray]:
        """The values in order, a chunk at a time (the snapshot's kept rows, then the tail)."""
        start = 0
        for chunk in self.read():
            if self.keep is None:
                yield chunk
            else:
                picked: pa.StringArray = chunk.filter(self.keep.slice(start, len(chunk)))
                yield picked
            start += len(chunk)
        yield from self.tail.chunks

    def materialised(self) -> pa.ChunkedArray:
        """Every value in memory (small lists, tests)."""
        return pa.chunked_array(list(self.chunks()), type=pa.string())

    def without(
        self, rows: pa.BooleanArray | None, keep_tail: pa.BooleanArray | None
    ) -> StoredColumn:
        """This column without the snapshot's ``rows`` (flags over all ``count`` of them, kept
        or not; None: none) and with only the tail's rows where ``keep_tail`` (None: all)."""
        keep = self.keep
        if rows is not None:
            dropped = pc.invert(rows)
            keep = dropped if keep is None else pc.and_(keep, dropped)
        tail = self.tail if keep_tail is None else self.tail.filter(keep_tail)
        return StoredColumn(self.count, self.read, keep, tail)

    def with_tail(self, added: pa.ChunkedArray | pa.Array) -> StoredColumn:
        """This column with ``added`` after its tail."""
        more = added.chunks if isinstance(added, pa.ChunkedArray) else [added]
        tail = pa.chunked_array([*self.tail.chunks, *more], pa.string())
        return StoredColumn(self.count, self.read, self.keep, tail)

    def stored_flags(self, values: pa.Array) -> pa.BooleanArray | None:
        """For each of the snapshot's rows (kept or not), whether it is among ``values``; None
        when none is (one pass over the snapshot)."""
        if not len(values) or not self.count:
            return None
        found = [pc.is_in(chunk, value_set=values) for chunk in self.read()]
        flags = pa.concat_arrays(found) if found else pa.array([], pa.bool_())
        return flags if pc.any(flags).as_py() else None
