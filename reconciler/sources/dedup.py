"""Distinct emails by one stable sort (no hash table): count, repeated samples, first rows.

A hash aggregation of a million strings (DuckDB's or Arrow's) needs ~100 MB on top of the
strings; a sort needs the 8 MB of its order, and the sorted values are then walked a slice
at a time. The stable sort puts each email's first row first in its run of equal values.
Most segments repeat no email: their 64-bit keys prove it first (``lookup.distinct``: 8
bytes a row, sorted into partitions as they are made), and only a segment that does repeat one
is sorted (at ten million rows the sort held 16 bytes a row and took seconds). A spilled
segment (:class:`~reconciler.spill.SpilledStrings`) is checked batch by batch the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reconciler import duck
from reconciler.lookup import distinct as all_distinct
from reconciler.lookup import without_rows
from reconciler.sources.fingerprint import FINGERPRINT_TERM
from reconciler.spill import SpilledStrings

SLICE = 100_000


@dataclass(frozen=True)
class Distinct:
    """What the sorted walk found."""

    count: int  # distinct emails
    repeated: list[str]  # the first few (in sorted order) that occur more than once
    order: pa.UInt64Array | None  # the rows in (stable) sorted order (None: none repeats)


def distinct(
    emails: pa.StringArray | pa.LargeStringArray, limit: int, *, repeats: bool = False
) -> Distinct:
    """Count the distinct ``emails`` (no nulls) and sample up to ``limit`` repeated ones
    (``repeats``: some email is known to repeat, no need to prove the contrary first)."""
    if not repeats and all_distinct(emails):  # the common case, proved without a sort
        return Distinct(len(emails), [], None)
    order: pa.UInt64Array = pc.sort_indices(emails)
    count = 0
    repeated: list[str] = []
    for values, _, first in _walk(emails, order):
        count += len(values) - (pc.sum(pc.invert(first)).as_py() or 0)
        if len(repeated) < limit:
            again = pc.unique(values.filter(pc.invert(first))).to_pylist()
            repeated.extend(e for e in again if not repeated or e != repeated[-1])
            del repeated[limit:]
    return Distinct(count, repeated, order)


def deduplicated(
    emails: pa.StringArray | SpilledStrings, limit: int
) -> tuple[Distinct, pa.BooleanArray | None]:
    """The distinct count and repeated samples of ``emails``, and the rows to keep (each
    email's first; None: all). A spilled column is checked by its keys, batch by batch; only
    one that does repeat an email is read back into memory to find which rows repeat."""
    if not isinstance(emails, SpilledStrings):
        found = distinct(emails, limit)
        return found, first_mask(emails, found)
    if all_distinct(emails):
        return Distinct(len(emails), [], None), None
    # read back whole to sort (64-bit offsets: a segment's emails may pass 2 GiB of text)
    held = pa.concat_arrays([chunk.cast(pa.large_string()) for chunk in emails.chunks()])
    found = distinct(held, limit, repeats=True)
    return found, first_mask(held, found)


def first_rows(emails: pa.StringArray, found: Distinct) -> pa.Int64Array | None:
    """The row each distinct email first appears in, ascending (None: every row)."""
    keep = first_mask(emails, found)
    if keep is None:
        return None
    rows: pa.Int64Array = pc.indices_nonzero(keep).cast(pa.int64())
    return rows


def first_mask(emails: pa.StringArray, found: Distinct) -> pa.BooleanArray | None:
    """True for the rows where an email first appears (None: every row).

    Without duplicates (the common case) every row is its email's first. The mask is built from
    the repeated rows only (one byte a row while it is built, one bit after), never from a list
    of every first row: ``emails.filter(mask)`` once the caller dropped ``found`` (8 bytes a
    row) makes the unique emails one copy, in row order."""
    if found.count == len(emails):
        return None
    assert found.order is not None  # sorted: some email repeats
    repeats = (
        positions.filter(pc.invert(first)).to_pylist()
        for _, positions, first in _walk(emails, found.order)
    )
    return without_rows(len(emails), repeats)


def hash_sum(unique: pa.StringArray | SpilledStrings) -> int:
    """The fingerprint sum of ``unique`` (see :mod:`reconciler.sources.fingerprint`), streamed
    through DuckDB (exact: a HUGEINT sum; a spilled column's batches summed one by one)."""
    term = FINGERPRINT_TERM.format(column="email")
    parts = unique.chunks() if isinstance(unique, SpilledStrings) else [unique]
    total = 0
    with duck.connect() as connection:
        for part in parts:
            connection.register("unique_emails", pa.table({"email": part}))
            ((found,),) = connection.sql(
                f"SELECT coalesce(sum({term}), 0) FROM unique_emails"
            ).fetchall()
            connection.unregister("unique_emails")
            total += int(found)
    return total


def _walk(
    emails: pa.StringArray, order: pa.UInt64Array
) -> Iterator[tuple[pa.StringArray, pa.UInt64Array, pa.BooleanArray]]:
    """Slices of the sorted emails, their rows, and True where a run of equal values starts."""
    previous: str | None = None
    for start in range(0, len(order), SLICE):
        positions: pa.UInt64Array = order.slice(start, SLICE)
        values: pa.StringArray = emails.take(positions)
        same = pc.equal(values.slice(1), values.slice(0, len(values) - 1))
        head = pa.array([previous is not None and values[0].as_py() == previous])
        previous = values[-1].as_py()
        yield values, positions, pc.invert(pa.concat_arrays([head, same]))
