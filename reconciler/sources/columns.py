"""Values of one mapped column for the valid rows, kept compact until they are needed."""

from __future__ import annotations

import pyarrow as pa

from reconciler.sources.base import ColumnValues


class ColumnStore:
    """Arrow arrays stay Arrow (file sources); Python values from a database stay a list."""

    def __init__(self) -> None:
        self._arrays: list[pa.Array] = []
        self._values: list[object] = []

    def add(self, values: ColumnValues) -> None:
        if isinstance(values, list):
            self._values.extend(values)
        else:
            self._arrays.append(values)

    def slice(self, start: int, length: int) -> list[object]:
        """Python values of rows ``start`` to ``start + length`` (over everything added)."""
        if not self._arrays:
            return self._values[start : start + length]
        chunk = pa.chunked_array(self._arrays).slice(start, length)
        values: list[object] = _plain(chunk).to_pylist()
        return values

    def take(self, rows: pa.Array) -> list[object]:
        """Python values of the rows at positions ``rows`` (over everything added)."""
        if not self._arrays:
            values = self._values
            return [values[i] for i in rows.to_pylist()]
        taken = pa.chunked_array(self._arrays).take(rows)
        picked: list[object] = _plain(taken).to_pylist()
        return picked


def _plain(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Decimals as floats and dates as ISO text, converted inside Arrow (fewer Python objects)."""
    if pa.types.is_decimal(values.type):
        return values.cast(pa.float64())
    if pa.types.is_date(values.type):
        return values.cast(pa.string())
    return values
