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

from reconciler.chunkstream import Streamed, chunks_of, in_memory, is_streamed, zipped
from reconciler.errors import StateError
from reconciler.lookup import Keys, is_in, join
from reconciler.plan.digest import pairs_digest
from reconciler.sources.fingerprint import TextHasher
from reconciler.state.storedcolumn import StoredColumn

Strings: TypeAlias = "pa.StringArray | pa.ChunkedArray"  # strings, in one piece or several
Mask: TypeAlias = "pa.BooleanArray | pa.ChunkedArray"  # one flag per value of Strings
EMAIL, PROFILE_ID = "email", "profile_id"
_NO_ROWS = pa.table({EMAIL: pa.array([], pa.string()), PROFILE_ID: pa.array([], pa.string())})


@dataclass(frozen=True)
class MemberTable:
    """email -> profile id, column-wise: ``emails[i]`` has ``profile_ids[i]``; emails unique."""

    emails: Strings | StoredColumn  # stored: left in the state until a pass reads them
    profile_ids: Strings | StoredColumn

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
        emails, ids = in_memory(self.emails).to_pylist(), in_memory(self.profile_ids).to_pylist()
        return dict(zip(emails, ids, strict=True))

    def digest(self) -> str:
        """Equal to :func:`reconciler.plan.digest.mapping_digest` of :meth:`as_dict`: an
        order-independent sum, hashed inside DuckDB a slice at a time (no sort, no Python
        string per member)."""
        return self.digest_and_rows(None)[0]

    def digest_and_rows(
        self, chosen: Mask | None, *, digest: str | None = None
    ) -> tuple[str, pa.Table]:
        """:meth:`digest`, and the members where ``chosen`` (emails and profile ids), in one
        pass over the columns (which may still be in the state: :class:`StoredColumn`). With
        the ``digest`` known (made while the segment was read), only the rows: no pass at all
        without ``chosen``."""
        if digest is not None and chosen is None:
            return digest, _NO_ROWS
        total, start = 0, 0
        picked: list[pa.Table] = []
        with TextHasher() as hasher:
            for emails, ids in zipped(chunks_of(self.emails), chunks_of(self.profile_ids)):
                if digest is None:
                    total += hasher.total(pc.binary_join_element_wise(emails, ids, "\0"))
                if chosen is not None:
                    where = chosen.slice(start, len(ids))
                    found = {EMAIL: emails.filter(where), PROFILE_ID: ids.filter(where)}
                    picked.append(pa.table(found))
                start += len(ids)
        if start != len(self):
            raise StateError("the list's profile ids do not match its emails; plan again")
        rows = pa.concat_tables(picked) if picked else _NO_ROWS
        return digest or pairs_digest(len(self), total), rows


def string_array(values: pa.Array | Iterable[str]) -> pa.StringArray:
    """``values`` as a string array (an Arrow array is kept as it is)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    return pa.array(list(values), type=pa.string())


def missing_from(values: Strings | Keys, others: Strings | Keys | Streamed) -> Mask:
    """True for each value of ``values`` that is not among ``others`` (see
    :mod:`reconciler.lookup`: bounded hash tables, every value probed once; a stream of
    ``others`` is read once, a piece at a time)."""
    found = join(values, others).found if is_streamed(others) else is_in(values, others)
    missing: pa.BooleanArray = pc.invert(found)
    return missing


def flags_among(values: Strings | Streamed, others: Strings) -> Mask:
    """True for each value of ``values`` (a stream: read once) that is among ``others``."""
    if not is_streamed(values):
        return is_in(values, others)
    theirs = Keys(others)  # keyed once for every chunk
    found = [is_in(chunk, theirs) for chunk in values.chunks()]
    return pa.chunked_array(found, pa.bool_())
