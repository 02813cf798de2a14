"""One in-memory DuckDB for the process's own computations (hashes, keys, sums over Arrow).

Each new DuckDB database allocates its own buffers and catalog (tens of megabytes, kept by its
allocator after it closes); one database, with a cursor per computation, allocates them once.
A cursor is DuckDB's connection for one thread: every caller takes its own.
"""

from __future__ import annotations

from functools import cache

import duckdb


@cache
def _database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:", config={"threads": 1})


def cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to the process's DuckDB (close it, or use it in ``with``)."""
    return _database().cursor()
