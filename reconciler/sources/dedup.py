"""Distinct emails by one stable sort (no hash table): count, repeated samples, first rows.

A hash aggregation of a million strings (DuckDB's or Arrow's) needs ~100 MB on top of the
strings; a sort needs the 8 MB of its order, and the sorted values are then walked a slice
at a time. The stable sort puts each email's first row first in its run of equal values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.sources.fingerprint import FINGERPRINT_TERM

SLICE = 100_000


@dataclass(frozen=True)
class Distinct:
    """What the sorted walk found."""

    count: int  # distinct emails
    repeated: list[str]  # the first few (in sorted order) that occur more than once
    order: pa.UInt64Array  # the rows in (stable) sorted order


def distinct(emails: pa.StringArray, limit: int) -> Distinct:
    """Count the distinct ``emails`` (no nulls) and sample up to ``limit`` repeated ones."""
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


def first_rows(
    emails: pa.StringArray, found: Distinct
) -> tuple[pa.StringArray, pa.Int64Array | None]:
    """Each distinct email once and the row it first appears in (None: every row, in order).

    Without duplicates (the common case) that is simply the emails, in row order.
    """
    if found.count == len(emails):
        return emails, None
    values: list[pa.Array] = []
    rows: list[pa.Array] = []
    for sorted_values, positions, first in _walk(emails, found.order):
        values.append(sorted_values.filter(first))
        rows.append(positions.filter(first).cast(pa.int64()))
    unique: pa.StringArray = pa.concat_arrays(values)
    firsts: pa.Int64Array = pa.concat_arrays(rows)
    return unique, firsts


def hash_sum(unique: pa.StringArray) -> int:
    """The fingerprint sum of ``unique`` (see :mod:`reconciler.sources.fingerprint`), streamed
    through DuckDB (exact: a HUGEINT sum)."""
    term = FINGERPRINT_TERM.format(column="email")
    with duckdb.connect(":memory:", config={"threads": 1}) as connection:
        connection.register("unique_emails", pa.table({"email": unique}))
        ((total,),) = connection.sql(
            f"SELECT coalesce(sum({term}), 0) FROM unique_emails"
        ).fetchall()
    return int(total)


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
