"""The few primitives the journal, cache and jobs need from a SQL database.

SQL is written once with ``?`` placeholders; each implementation adapts it. Every driver error
leaves as :class:`reconciler.errors.StateError`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Blob:
    """The blob ``column`` of the rows of ``table`` that ``where`` (with ``params``) selects."""

    table: str
    column: str
    where: str
    params: Sequence[object]

    def select(self, what: str) -> str:
        """SQL selecting ``what`` from the rows of the blob."""
        return f"SELECT {what} FROM {self.table} WHERE {self.where}"

    def update(self, value: str) -> str:
        """SQL setting the blob to the SQL expression ``value``."""
        return f"UPDATE {self.table} SET {self.column} = {value} WHERE {self.where}"


class Database(ABC):
    """A connection to the state database (one per backend, used from one thread at a time)."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Run one statement for each of ``rows``."""

    @abstractmethod
    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Rows of a query."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A transaction: committed on success, rolled back on error."""

    @abstractmethod
    def ts_in(self, value: dt.datetime) -> object:
        """A UTC datetime as the database stores it."""

    @abstractmethod
    def ts_out(self, value: Any) -> dt.datetime:
        """A stored timestamp as an aware UTC datetime."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def ts_out_optional(self, value: Any) -> dt.datetime | None:
        return None if value is None else self.ts_out(value)

    def fetch_one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        rows = self.fetch(sql, params)
        return rows[0] if rows else None

    def read_blob(self, blob: Blob, offset: int, size: int) -> bytes | bytearray | None:
        """``size`` bytes at ``offset`` of ``blob`` in the one row it selects (None without
        such a row); a database may read them without loading the whole blob."""
        row = self.fetch_one(
            blob.select(f"substr({blob.column}, ?, ?)"), (offset + 1, size, *blob.params)
        )
        return None if row is None else bytes(row[0])

    def read_pieces(
        self, blob: Blob, offset: int, length: int, piece: int
    ) -> Iterator[bytes | bytearray]:
        """The ``length`` bytes at ``offset`` of ``blob``, ``piece`` bytes at a time (a short
        or missing piece ends the iteration early: the caller checks the total)."""
        for start in range(offset, offset + length, piece):
            size = min(piece, offset + length - start)
            found = self.read_blob(blob, start, size)
            if found is None:
                return
            yield found
            if len(found) != size:
                return

    def write_blob(self, blob: Blob, size: int, pieces: Iterable[bytes | memoryview]) -> None:
        """Set ``blob`` to the ``size`` bytes of ``pieces`` (in a transaction of the caller's);
        a database may write them piece by piece (this default joins them first)."""
        data = b"".join(pieces)
        if len(data) != size:
            raise ValueError(f"blob of {len(data)} bytes, {size} announced")
        self.execute(blob.update("?"), (data, *blob.params))


def chunks(values: Iterable[str], size: int = 500) -> Iterator[Sequence[str]]:
    """The distinct ``values`` (first occurrences, in order) in slices small enough for an
    ``IN (...)`` list."""
    distinct = list(dict.fromkeys(values))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


def marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters."""
    return ", ".join("?" * count)
