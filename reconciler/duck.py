"""The one way the process opens DuckDB for its own computations (hashes, keys, sums over
Arrow): an in-memory database of one thread, opened per computation and closed after it (a
database kept open for the process keeps the memory of its largest computation)."""

from __future__ import annotations

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB (close it, or use it in ``with``)."""
    return duckdb.connect(":memory:", config={"threads": 1})
