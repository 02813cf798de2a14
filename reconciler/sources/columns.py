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
        return _plain(take(self._chunked(), rows)).combine_chunks()

    def take(self, rows: pa.Array) -> list[object]:
        """Python values of the rows at positions ``rows`` (over everything added)."""
        if not self._arrays:
            values = self._values
            return [values[i] for i in rows.to_pylist()]
        picked: list[object] = _plain(take(self._chunked(), rows)).to_pylist()
        return picked

    def arrow(self, rows: pa.Array | None) -> tuple[pa.ChunkedArray, bool]:
        """The values of the rows at ``rows`` (None: every row, zero-copy) as one Arrow column
        of JSON values, and whether it holds their JSON text (a column of mixed or non-plain
        values). Only a column that could not stay Arrow, or of a type JSON has no form for
        (timestamps, binary, nested), goes through Python values."""
        if self._arrays:
            chunked = self._chunked()
            picked = _plain(chunked if rows is None else take(chunked, rows))
            if _jsonable(picked.type):
                return picked, False
            return _as_json(picked.to_pylist())
        values = self._values if rows is None else [self._values[i] for i in rows.to_pylist()]
        return _as_json(values)


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
