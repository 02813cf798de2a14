"""A list's members as two aligned Arrow columns, and the diff of a segment against them.

A million members as Python strings in dicts and sets cost hundreds of megabytes; as Arrow
columns they cost the bytes of the text. Only the difference (the emails to add, the emails and
profile ids to remove) ever becomes Python strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.plan.lookup import is_in

SLICE = 20_000  # values made Python strings at a time (while hashing in sorted order)
Strings: TypeAlias = "pa.StringArray | pa.ChunkedArray"  # strings, in one piece or several
Mask: TypeAlias = "pa.BooleanArray | pa.ChunkedArray"  # one flag per value of Strings


@dataclass(frozen=True)
class MemberTable:
    """email -> profile id, column-wise: ``emails[i]`` has ``profile_ids[i]``; emails unique."""

    emails: Strings
    profile_ids: Strings

    @classmethod
    def from_mapping(cls, members: Mapping[str, str]) -> MemberTable:
        return cls(
            pa.array(list(members), type=pa.string()),
            pa.array(list(members.values()), type=pa.string()),
        )

    def __len__(self) -> int:
        return len(self.emails)

    def as_dict(self) -> dict[str, str]:
        """The members as a dict (materialises every member: for small lists and tests)."""
        return dict(zip(self.emails.to_pylist(), self.profile_ids.to_pylist(), strict=True))

    def digest(self) -> str:
        """Equal to :func:`reconciler.plan.digest.mapping_digest` of :meth:`as_dict`."""
        order = pc.sort_indices(self.emails)
        h = hashlib.sha256(f"{len(self)}\n".encode())
        _hash_joined(h, _taken(self.emails, order))
        h.update(b"\0")
        _hash_joined(h, _taken(self.profile_ids, order))
        return f"{len(self):x}-{h.hexdigest()[:32]}"


def string_array(values: pa.Array | Iterable[str]) -> pa.StringArray:
    """``values`` as a string array (an Arrow array is kept as it is)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    return pa.array(list(values), type=pa.string())


def missing_from(values: Strings, others: Strings) -> Mask:
    """True for each value of ``values`` that is not among ``others`` (see
    :mod:`reconciler.plan.lookup`: bounded hash tables, every value probed once)."""
    missing: pa.BooleanArray = pc.invert(is_in(values, others))
    return missing


def _taken(values: Strings, order: pa.Array) -> Iterator[list[str]]:
    """``values`` in ``order``, a slice at a time. A chunked column is taken from chunk by
    chunk: Arrow's take from a chunked string array first concatenates all of it."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    bounds: list[tuple[pa.StringArray, int, int]] = []
    start = 0
    for chunk in chunks:
        bounds.append((chunk, start, start + len(chunk)))
        start += len(chunk)
    for first in range(0, len(order), SLICE):
        positions = order.slice(first, SLICE)
        if len(bounds) == 1:
            yield bounds[0][0].take(positions).to_pylist()
            continue
        yield _gathered(positions, bounds)


def _gathered(positions: pa.Array, bounds: list[tuple[pa.StringArray, int, int]]) -> list[str]:
    out: list[str] = [""] * len(positions)
    for chunk, low, high in bounds:
        inside = pc.and_(pc.greater_equal(positions, low), pc.less(positions, high))
        where = pc.indices_nonzero(inside).to_pylist()
        if not where:
            continue
        local = pc.subtract(positions.filter(inside), pa.scalar(low, positions.type))
        for at, value in zip(where, chunk.take(local).to_pylist(), strict=True):
            out[at] = value
    return out


def _hash_joined(h: hashlib._Hash, slices: Iterable[list[str]]) -> None:
    """Feed ``h`` the values joined by newlines, slice by slice (never the whole text at once)."""
    first = True
    for values in slices:
        if not values:
            continue
        if not first:
            h.update(b"\n")
        h.update("\n".join(values).encode())
        first = False
