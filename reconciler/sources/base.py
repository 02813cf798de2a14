"""What every source backend provides: result columns, then batches of rows."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Protocol, TypeAlias

import pyarrow as pa

from reconciler.errors import SourceError

ColumnValues: TypeAlias = "pa.Array | list[object]"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,127}$")


class Batch(Protocol):
    """A batch of result rows; only the columns a caller asks for are materialised."""

    def emails(self) -> pa.Array:
        """The email column as an Arrow string array."""
        ...

    def values(self, column: str, positions: pa.Array) -> ColumnValues:
        """The values of ``column`` at ``positions`` (0-based within the batch)."""
        ...


class SegmentReader(Protocol):
    """An open segment query: its columns are known before any row is read."""

    @property
    def columns(self) -> tuple[str, ...]: ...

    def batches(self, email: str, others: Sequence[str], batch_size: int) -> Iterator[Batch]:
        """Stream the rows, materialising only ``email`` and the ``others`` columns."""
        ...


def table_parts(table: str, segment: str, source: str) -> list[str]:
    """``schema.table`` split into validated identifier parts (at most catalog.schema.table)."""
    parts = table.split(".")
    if len(parts) > 3 or not all(_IDENTIFIER.match(part) for part in parts):
        raise SourceError(
            segment,
            source,
            f"table {table!r} is not a valid table name",
            hint="use a plain name such as 'profiles' or 'schema.profiles' "
            "(letters, digits, '_', '$' and '-'), or write a query: instead",
        )
    return parts


def strip_query(query: str) -> str:
    """The query without surrounding blanks and trailing semicolons."""
    return query.strip().rstrip(";").rstrip()
