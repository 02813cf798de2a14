"""Looking up a large column of strings in another: each value's place in ``others``.

Arrow's ``is_in``/``index_in`` hash the whole value set: ~90 MB for a million strings, ~900 MB
for ten million. Probing ``values`` against one slice of ``others`` after another bounds that,
but costs one pass over ``values`` per slice: quadratic, 13 s for 4M against 4M. Here both
columns are split into the same ``k`` partitions by a hash of each string (DuckDB's
``hash``), and each partition of ``values`` is looked up in the same partition of ``others``
only: every value is probed once, and no hash table holds more than about ``SLICE`` strings.
Partitions are taken with ``filter`` (chunk by chunk: a chunked column is never concatenated),
and the answers are put back in ``values``' order with one sort of their positions.
"""

from __future__ import annotations

from typing import TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

SLICE = 250_000  # strings per partition of ``others`` (its hash table: ~25 MB)
Strings: TypeAlias = "pa.StringArray | pa.ChunkedArray"


def index_in(values: Strings, others: Strings) -> pa.Int64Array:
    """Each value's position in ``others`` (null where it is not there; ``others`` unique)."""
    if len(values) == 0 or len(others) == 0:  # nothing to hash (a first sync's empty list)
        return pa.nulls(len(values), pa.int64())
    parts = -(-len(others) // SLICE)
    if parts <= 1:
        return _whole(pc.index_in(values, value_set=others).cast(pa.int64()))
    mine, theirs = _partitions(values, parts), _partitions(others, parts)
    positions: list[pa.Array] = []
    found: list[pa.Array] = []
    for part in range(parts):
        key = pa.scalar(part, pa.uint32())
        here, there = pc.equal(mine, key), pc.equal(theirs, key)
        there_at = pc.indices_nonzero(there)
        local = pc.index_in(values.filter(here), value_set=others.filter(there))
        positions.append(pc.indices_nonzero(here))
        found.append(_whole(there_at.take(local)).cast(pa.int64()))
    order = pc.sort_indices(pa.concat_arrays(positions))
    answers: pa.Int64Array = pa.concat_arrays(found).take(order)  # a chunked take is slow
    return answers


def is_in(values: Strings, others: Strings) -> pa.BooleanArray:
    """True for each value that is among ``others``."""
    if len(values) == 0 or len(others) == 0:
        nothing: pa.BooleanArray = pa.nulls(len(values), pa.bool_()).fill_null(False)
        return nothing
    if -(-len(others) // SLICE) <= 1:
        found: pa.BooleanArray = _whole(pc.is_in(values, value_set=others))
        return found
    present: pa.BooleanArray = pc.is_valid(index_in(values, others))
    return present


def _partitions(values: Strings, parts: int) -> pa.UInt32Array:
    """The partition (0 .. ``parts`` - 1) of each value, from a 64-bit hash of it."""
    with duckdb.connect(":memory:", config={"threads": 1}) as connection:
        connection.register("v", pa.table({"v": values}))
        table = connection.sql(f"SELECT (hash(v) % {parts})::UINTEGER AS p FROM v").to_arrow_table()
    return _whole(table.column("p"))


def _whole(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
