"""A segment's unique emails as a read-only set backed by one Arrow array.

The plan engine diffs the Arrow array itself; Python strings (and a hash set of them) are made
only if someone tests membership or iterates, so a million-row segment costs its text, not a
million Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Set

import pyarrow as pa

from reconciler.chunkstream import chunks_of
from reconciler.spill import SpilledStrings

_SLICE = 100_000


class EmailSet(Set[str]):
    """The unique emails of ``array`` (which must hold no duplicates and no nulls)."""

    def __init__(self, array: pa.StringArray | SpilledStrings) -> None:
        self.array = array
        self._set: frozenset[str] | None = None

    def _members(self) -> frozenset[str]:
        if self._set is None:
            self._set = frozenset(self)
        return self._set

    def __contains__(self, email: object) -> bool:
        return email in self._members()

    def __iter__(self) -> Iterator[str]:
        if self._set is not None:
            yield from self._set
            return
        for chunk in chunks_of(self.array, _SLICE):
            yield from chunk.to_pylist()

    def __len__(self) -> int:
        return len(self.array)

    def __repr__(self) -> str:
        return f"EmailSet({len(self)} emails)"
