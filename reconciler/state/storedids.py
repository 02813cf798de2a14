"""Profile ids left in the membership cache until asked for, a chunk at a time.

A plan needs a list's profile ids for two things only: the members it removes, and the list's
fingerprint (a sum over every member's email and id). Both are one pass over the ids in list
order, so the ids (300 MB for ten million members) stay in the state's snapshot, which is read
again, a piece at a time, for that pass: :class:`StoredIds` is the ids of a list held in memory
as its emails (``reconciler.plan.members.MemberTable``) are: the snapshot's rows that are still
members (``keep``), then the ids of members added since (``tail``, few, in memory).

The snapshot must not change while the ids are read from it: the membership read that loads them
never compacts the cache, and each pass checks that the snapshot's header is the one loaded (a
changed one is a :class:`~reconciler.errors.StateError`, never a wrong id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

Chunks = Callable[[], Iterator[pa.StringArray]]  # the snapshot's ids, in order, chunk by chunk


def _no_ids() -> pa.ChunkedArray:
    return pa.chunked_array([], type=pa.string())


@dataclass(frozen=True)
class StoredIds:
    """A list's profile ids: the stored snapshot's (``count``, read by ``read``) where
    ``keep`` (None: all of them), then ``tail``."""

    count: int
    read: Chunks
    keep: pa.BooleanArray | None = None
    tail: pa.ChunkedArray = field(default_factory=_no_ids)

    def __len__(self) -> int:
        return self.kept + len(self.tail)

    @cached_property
    def kept(self) -> int:
        """How many of the snapshot's rows are still members (they come first)."""
        return self.count if self.keep is None else int(pc.sum(self.keep).as_py() or 0)

    def chunks(self) -> Iterator[pa.StringArray]:
        """The ids in order, a chunk at a time (the snapshot's kept rows, then the tail)."""
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
        """Every id in memory (small lists, tests, and the rare overwrite of a member)."""
        return pa.chunked_array(list(self.chunks()), type=pa.string())

    def with_tail(self, keep_tail: pa.BooleanArray | None, added: pa.ChunkedArray) -> StoredIds:
        """These ids with the tail's rows where ``keep_tail`` (None: all), then ``added``."""
        tail = self.tail if keep_tail is None else self.tail.filter(keep_tail)
        chunks = [*tail.chunks, *added.chunks]
        return StoredIds(self.count, self.read, self.keep, pa.chunked_array(chunks, pa.string()))
