"""Values of one mapped column for the valid rows, kept compact until they are needed.

Arrow arrays (file sources) stay Arrow. A database's Python values are turned into one Arrow
array per batch when every value of the column so far is of one plain type (text, integer,
float, boolean): ten million first names as Python strings cost ~600 MB, as Arrow the bytes of
the text. A column that mixes types (or holds dates, decimals, JSON) stays Python values.
"""

from __future__ import annotations

import pyarrow as pa

from reconciler.sources.base import ColumnValues

_ARROW_TYPES: dict[type, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
}


class ColumnStore:
    """The column's values over every batch added, as Arrow arrays or as Python values."""

    def __init__(self) -> None:
        self._arrays: list[pa.Array] = []
        self._values: list[object] = []
        self._kind: type | None = None  # the one Python type of a database column's values
        self._python = False  # a database column that could not stay Arrow

    def add(self, values: ColumnValues) -> None:
        if not isinstance(values, list):
            self._arrays.append(values)
        elif self._python or not self._add_as_arrow(values):
            self._values.extend(values)

    def _add_as_arrow(self, values: list[object]) -> bool:
        """Append ``values`` as an Arrow array when all are of the column's one plain type."""
        kinds = {v.__class__ for v in values if v is not None}
        if len(kinds) > 1:
            return self._to_python()
        kind = next(iter(kinds), self._kind)  # None: only nulls so far
        if kind is not None and (kind not in _ARROW_TYPES or self._kind not in (None, kind)):
            return self._to_python()
        try:
            array = pa.array(values, type=pa.null() if kind is None else _ARROW_TYPES[kind])
        except (pa.ArrowException, OverflowError):
            return self._to_python()
        self._kind = kind
        self._arrays.append(array)
        return True

    def _to_python(self) -> bool:
        """From now on Python values; the arrays so far become Python values too."""
        self._python = True
        for array in self._arrays:
            self._values.extend(array.to_pylist())
        self._arrays = []
        return False

    def _chunked(self) -> pa.ChunkedArray:
        arrays = self._arrays
        if self._kind is not None:  # all-null batches read before the type was known
            wanted = _ARROW_TYPES[self._kind]
            arrays = [a.cast(wanted) if a.type != wanted else a for a in arrays]
        return pa.chunked_array(arrays)

    def slice(self, start: int, length: int) -> list[object]:
        """Python values of rows ``start`` to ``start + length`` (over everything added)."""
        if not self._arrays:
            return self._values[start : start + length]
        values: list[object] = _plain(self._chunked().slice(start, length)).to_pylist()
        return values

    def arrow_slice(self, start: int, length: int) -> pa.Array | None:
        """Rows ``start`` to ``start + length`` as one Arrow array (None: Python values)."""
        if not self._arrays:
            return None
        return _plain(self._chunked().slice(start, length)).combine_chunks()

    def arrow_take(self, rows: pa.Array) -> pa.Array | None:
        """The rows at positions ``rows`` as one Arrow array (None: Python values)."""
        if not self._arrays:
            return None
        return _plain(self._chunked().take(rows)).combine_chunks()

    def take(self, rows: pa.Array) -> list[object]:
        """Python values of the rows at positions ``rows`` (over everything added)."""
        if not self._arrays:
            values = self._values
            return [values[i] for i in rows.to_pylist()]
        picked: list[object] = _plain(self._chunked().take(rows)).to_pylist()
        return picked


def _plain(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Decimals as floats and dates as ISO text, converted inside Arrow (fewer Python objects)."""
    if pa.types.is_decimal(values.type):
        return values.cast(pa.float64())
    if pa.types.is_date(values.type):
        return values.cast(pa.string())
    return values
