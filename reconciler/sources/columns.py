"""Values of one mapped column for the valid rows, kept compact until they are needed.

Arrow arrays (file sources) stay Arrow. A database's Python values are turned into one Arrow
array per batch when every value of the column so far is of one plain type (text, integer,
float, boolean): ten million first names as Python strings cost ~600 MB, as Arrow the bytes of
the text. A column that mixes types (or holds dates, decimals, JSON) stays Python values.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from reconciler.chunktake import take
from reconciler.sources.base import ColumnValues
from reconciler.sources.values import json_value
from reconciler.spill import SpilledStrings
from reconciler.values import ARROW_TYPES, plain_array, value_array

_PLAIN = (str, int, bool, float, type(None))


def plain_values(values: Sequence[object]) -> list[object]:
    """``values`` as JSON data (None stays None: a missing value)."""
    return [v if v.__class__ in _PLAIN else json_value(v) for v in values]


class ColumnStore:
    """The column's values over every batch added, as Arrow arrays or as Python values."""

    def __init__(self) -> None:
        self._arrays: list[pa.Array] = []
        self._values: list[object] = []
        self._kind: type | None = None  # the one Python type of a database column's values
        self._python = False  # a database column that could not stay Arrow
        self._spilled: SpilledStrings | None = None  # the Arrow values, moved to a file

    def add(self, values: ColumnValues) -> None:
        if not isinstance(values, list):
            self._arrays.append(values)
        elif self._python or not self._add_as_arrow(values):
            self._values.extend(values)

    def _add_as_arrow(self, values: list[object]) -> bool:
        """Append ``values`` as an Arrow array when all are of the column's one plain type."""
        array = plain_array(values, self._kind)
        if array is None:
            return self._to_python()
        if array.type != pa.null():  # None: only nulls so far
            self._kind = next(k for k, t in ARROW_TYPES.items() if t == array.type)
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
            wanted = ARROW_TYPES[self._kind]
            arrays = [a.cast(wanted) if a.type != wanted else a for a in arrays]
        return pa.chunked_array(arrays)

    def spill(self, what: str) -> None:
        """Move the values (Arrow ones: a column of Python values stays) to a private file,
        read back at the rows a plan takes (a large segment's: the plan of ten million holds
        the rows it adds or updates, not every value)."""
        if self._arrays and self._spilled is None:
            self._spilled = SpilledStrings(self._chunked(), what, typed=True)
            self._arrays = []

    def _column(self) -> pa.ChunkedArray | SpilledStrings | None:
        """The Arrow values (None: Python values)."""
        if self._spilled is not None:
            return self._spilled
        return self._chunked() if self._arrays else None

    def slice(self, start: int, length: int) -> list[object]:
        """Python values of rows ``start`` to ``start + length`` (over everything added)."""
        column = self._column()
        if column is None:
            return self._values[start : start + length]
        values: list[object] = _plain(column.slice(start, length)).to_pylist()
        return values

    def arrow_slice(self, start: int, length: int) -> pa.Array | None:
        """Rows ``start`` to ``start + length`` as one Arrow array (None: Python values)."""
        column = self._column()
        if column is None:
            return None
        return _plain(column.slice(start, length)).combine_chunks()

    def arrow_take(self, rows: pa.Array) -> pa.Array | None:
        """The rows at positions ``rows`` as one Arrow array (None: Python values)."""
        column = self._column()
        if column is None:
            return None
        return _plain(_taken(column, rows)).combine_chunks()

    def take(self, rows: pa.Array) -> list[object]:
        """Python values of the rows at positions ``rows`` (over everything added)."""
        column = self._column()
        if column is None:
            values = self._values
            return [values[i] for i in rows.to_pylist()]
        picked: list[object] = _plain(_taken(column, rows)).to_pylist()
        return picked

    def arrow(self, rows: pa.Array | None) -> tuple[pa.ChunkedArray, bool]:
        """The values of the rows at ``rows`` (None: every row, zero-copy) as one Arrow column
        of JSON values, and whether it holds their JSON text (a column of mixed or non-plain
        values). Only a column that could not stay Arrow, or of a type JSON has no form for
        (timestamps, binary, nested), goes through Python values."""
        column = self._column()
        if column is not None:
            picked = _plain(_whole(column) if rows is None else _taken(column, rows))
            if _jsonable(picked.type):
                return picked, False
            return _as_json(picked.to_pylist())
        values = self._values if rows is None else [self._values[i] for i in rows.to_pylist()]
        return _as_json(values)


def _taken(column: pa.ChunkedArray | SpilledStrings, rows: pa.Array) -> pa.ChunkedArray:
    """The values at ``rows`` (a spilled column: from the batches they fall in)."""
    if isinstance(column, SpilledStrings):
        picked = column.take(rows)
        return picked if isinstance(picked, pa.ChunkedArray) else pa.chunked_array([picked])
    return take(column, rows)


def _whole(column: pa.ChunkedArray | SpilledStrings) -> pa.ChunkedArray:
    if isinstance(column, SpilledStrings):
        return pa.chunked_array(list(column.chunks()), column.kind)
    return column


_JSON_TYPES = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_null,
)


def _jsonable(kind: pa.DataType) -> bool:
    return any(check(kind) for check in _JSON_TYPES)


def _as_json(values: list[object]) -> tuple[pa.ChunkedArray, bool]:
    """Python values as JSON data in one column (see ``reconciler.values.value_array``)."""
    array, texts = value_array(plain_values(values))
    return pa.chunked_array([array]), texts


def _plain(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Decimals as floats and dates as ISO text, converted inside Arrow (fewer Python objects)."""
    if pa.types.is_decimal(values.type):
        return values.cast(pa.float64())
    if pa.types.is_date(values.type):
        return values.cast(pa.string())
    return values
