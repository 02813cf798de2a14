"""A list's members as two aligned Arrow columns, and the diff of a segment against them.

A million members as Python strings in dicts and sets cost hundreds of megabytes; as Arrow
columns they cost the bytes of the text. Only the difference (the emails to add, the emails and
profile ids to remove) ever becomes Python strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.errors import StateError
from reconciler.lookup import Keys, is_in
from reconciler.plan.digest import pairs_digest
from reconciler.sources.fingerprint import TextHasher
from reconciler.state.storedids import StoredIds

SLICE = 100_000  # members hashed at a time
Strings: TypeAlias = "pa.StringArray | pa.ChunkedArray"  # strings, in one piece or several
Mask: TypeAlias = "pa.BooleanArray | pa.ChunkedArray"  # one flag per value of Strings
EMAIL, PROFILE_ID = "email", "profile_id"
_NO_ROWS = pa.table({EMAIL: pa.array([], pa.string()), PROFILE_ID: pa.array([], pa.string())})


@dataclass(frozen=True)
class MemberTable:
    """email -> profile id, column-wise: ``emails[i]`` has ``profile_ids[i]``; emails unique."""

    emails: Strings
    profile_ids: Strings | StoredIds  # stored: left in the state until a pass asks for them

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
        ids = self.profile_ids
        found = ids.materialised() if isinstance(ids, StoredIds) else ids
        return dict(zip(self.emails.to_pylist(), found.to_pylist(), strict=True))

    def digest(self) -> str:
        """Equal to :func:`reconciler.plan.digest.mapping_digest` of :meth:`as_dict`: an
        order-independent sum, hashed inside DuckDB a slice at a time (no sort, no Python
        string per member)."""
        return self.digest_and_rows(None)[0]

    def digest_and_rows(self, chosen: Mask | None) -> tuple[str, pa.Table]:
        """:meth:`digest`, and the members where ``chosen`` (emails and profile ids), in one
        pass over the profile ids (which may still be in the state: :class:`StoredIds`)."""
        total, start = 0, 0
        picked: list[pa.Table] = []
        with TextHasher() as hasher:
            for ids in self._id_chunks():
                emails = self.emails.slice(start, len(ids))
                total += hasher.total(pc.binary_join_element_wise(emails, ids, "\0"))
                if chosen is not None:
                    where = chosen.slice(start, len(ids))
                    found = {EMAIL: emails.filter(where), PROFILE_ID: ids.filter(where)}
                    picked.append(pa.table(found))
                start += len(ids)
        if start != len(self):
            raise StateError("the list's profile ids do not match its emails; plan again")
        rows = pa.concat_tables(picked) if picked else _NO_ROWS
        return pairs_digest(len(self), total), rows

    def _id_chunks(self) -> Iterator[Strings]:
        ids = self.profile_ids
        if isinstance(ids, StoredIds):
            yield from ids.chunks()
            return
        for start in range(0, len(ids), SLICE):
            yield ids.slice(start, SLICE)


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
