"""A list's members as two aligned Arrow columns, and the diff of a segment against them.

A million members as Python strings in dicts and sets cost hundreds of megabytes; as Arrow
columns they cost the bytes of the text. Only the difference (the emails to add, the emails and
profile ids to remove) ever becomes Python strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.lookup import Keys, is_in
from reconciler.plan.digest import pairs_digest
from reconciler.sources.fingerprint import TextHasher

SLICE = 100_000  # members hashed at a time
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
        """Equal to :func:`reconciler.plan.digest.mapping_digest` of :meth:`as_dict`: an
        order-independent sum, hashed inside DuckDB a slice at a time (no sort, no Python
        string per member)."""
        total = 0
        with TextHasher() as hasher:
            for start in range(0, len(self), SLICE):
                pairs = pc.binary_join_element_wise(
                    self.emails.slice(start, SLICE), self.profile_ids.slice(start, SLICE), "\0"
                )
                total += hasher.total(pairs)
        return pairs_digest(len(self), total)


def string_array(values: pa.Array | Iterable[str]) -> pa.StringArray:
    """``values`` as a string array (an Arrow array is kept as it is)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    return pa.array(list(values), type=pa.string())


def missing_from(values: Strings | Keys, others: Strings | Keys) -> Mask:
    """True for each value of ``values`` that is not among ``others`` (see
    :mod:`reconciler.lookup`: bounded hash tables, every value probed once)."""
    missing: pa.BooleanArray = pc.invert(is_in(values, others))
    return missing
