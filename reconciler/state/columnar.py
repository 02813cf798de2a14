"""The membership cache as Arrow columns: a million members without a Python string each.

A snapshot blob (see :mod:`reconciler.state.codec`) holds the emails and the profile ids as
newline-joined text. Here each column becomes one ``pa.StringArray`` split from the bytes by
Arrow (no Python string per member), and the change log is
replayed with Arrow compute: removals by profile id, additions with their email de-duplicated
(a later row for an email wins, as in the dict form).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.errors import StateError
from reconciler.state import codec

_MAX_OFFSET = (1 << 31) - 1


@dataclass(frozen=True)
class MemberColumns:
    """A list's cached members as two aligned columns (each email once).

    ``as_of`` is the newest ``joined_at`` seen (None for an empty list) and ``saved_at`` the
    wall time of the last save or update.
    """

    emails: pa.StringArray
    profile_ids: pa.StringArray
    as_of: dt.datetime | None
    saved_at: dt.datetime | None = None

    @property
    def count(self) -> int:
        return len(self.emails)

    def with_added(self, rows: Iterable[tuple[str, str]]) -> MemberColumns:
        """These columns with ``(email, profile id)`` rows added (a later row for an email wins)."""
        emails, ids = add_rows(self.emails, self.profile_ids, rows)
        return MemberColumns(emails, ids, self.as_of, self.saved_at)


def lines_array(data: memoryview | bytes | bytearray, count: int) -> pa.StringArray:
    """The ``count`` newline-separated UTF-8 values of ``data`` as one string array.

    The text is wrapped (no copy) as a one-value string array and split by Arrow's own kernel.
    """
    if count == 0:
        return empty_strings()
    if len(data) > _MAX_OFFSET:
        raise StateError("the membership cache snapshot is too large (over 2 GiB of text)")
    offsets = pa.py_buffer(struct.pack("<ii", 0, len(data)))
    whole = pa.StringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise codec.damaged("not UTF-8") from exc
    values: pa.StringArray = pc.split_pattern(whole, pattern="\n").flatten()
    if len(values) != count:
        raise codec.damaged("column lengths differ")
    return values


def empty_strings() -> pa.StringArray:
    empty: pa.StringArray = pa.array([], type=pa.string())
    return empty


def remove_ids(
    emails: pa.StringArray, ids: pa.StringArray, gone: Sequence[str]
) -> tuple[pa.StringArray, pa.StringArray]:
    """The columns without the members whose profile id is in ``gone``."""
    if not gone or len(ids) == 0:
        return emails, ids
    keep = pc.invert(pc.is_in(ids, value_set=pa.array(gone, type=pa.string())))
    if pc.all(keep).as_py():
        return emails, ids
    return emails.filter(keep), ids.filter(keep)


def add_rows(
    emails: pa.StringArray, ids: pa.StringArray, rows: Iterable[tuple[str, str]]
) -> tuple[pa.StringArray, pa.StringArray]:
    """The columns with ``rows`` added; an email already present takes the new profile id."""
    latest = dict(rows)
    if not latest:
        return emails, ids
    new_emails = pa.array(list(latest), type=pa.string())
    new_ids = pa.array(list(latest.values()), type=pa.string())
    keep = pc.invert(pc.is_in(emails, value_set=new_emails))
    if not pc.all(keep).as_py():
        emails, ids = emails.filter(keep), ids.filter(keep)
    return pa.concat_arrays([emails, new_emails]), pa.concat_arrays([ids, new_ids])
