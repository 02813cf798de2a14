"""Per-profile Klaviyo fields, stored column-wise and built into a mapping on access.

A million small dicts would cost ~300 MB, and an email -> row dict a million Python strings.
Here the unique emails stay one Arrow array with each one's first row; the mapped columns stay
as read (Arrow arrays, or the database's Python values). The plan takes the columns of the
profiles it adds or updates as Arrow (:meth:`ProfileFields.arrow_columns`: zero-copy when it
adds them all); :meth:`fields_for` and the ``Mapping`` view (which builds an index on first
use) make Python values, for small segments and tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.chunkstream import chunks_of, one_array
from reconciler.sources.columns import ColumnStore, plain_values
from reconciler.spill import SpilledStrings

_SLICE = 100_000


class ProfileFields(Mapping[str, Mapping[str, object]]):
    """email -> {"first_name": ..., "properties": {...}}; null values are left out.

    ``emails`` are the unique emails and ``rows[i]`` the row (in the stores) of ``emails[i]``
    (``rows`` None: ``emails[i]`` is row ``i``);
    ``attributes`` and ``properties`` map each Klaviyo field name to its column's values.
    """

    def __init__(
        self,
        emails: pa.StringArray | SpilledStrings,
        rows: pa.Int64Array | None,
        attributes: Mapping[str, ColumnStore],
        properties: Mapping[str, ColumnStore],
    ) -> None:
        self.emails = emails
        self._rows = rows
        self._attributes = dict(attributes)
        self._properties = dict(properties)
        self._index: dict[str, int] | None = None

    def slice_columns(
        self, start: int, length: int
    ) -> tuple[pa.StringArray, dict[str, pa.Array | list[object]]]:
        """Emails ``start`` .. ``start + length`` and their fields' values by key (``first_name``,
        ``properties.tier``, ...): Arrow arrays where the column is Arrow, else JSON data."""
        emails = _slice(self.emails, start, length)
        rows = self._rows.slice(start, length) if self._rows is not None else None
        columns: dict[str, pa.Array | list[object]] = {}
        for key, store in self._stores().items():
            arrow = (
                store.arrow_slice(start, len(emails)) if rows is None else store.arrow_take(rows)
            )
            if arrow is not None:
                columns[key] = arrow
            else:
                values = store.slice(start, len(emails)) if rows is None else store.take(rows)
                columns[key] = plain_values(values)
        return emails, columns

    def spill(self) -> None:
        """Move the mapped values to private files (see :meth:`ColumnStore.spill`)."""
        for store in self._stores().values():
            store.spill("its mapped values")

    def _stores(self) -> dict[str, ColumnStore]:
        return {
            **self._attributes,
            **{f"properties.{name}": store for name, store in self._properties.items()},
        }

    def fields_for(self, emails: Sequence[str]) -> dict[str, dict[str, object]]:
        """The fields of each of ``emails`` that has any (unknown emails are left out), in the
        order of ``emails``. Only ``emails`` are hashed: a lookup table of a million segment
        emails would cost ~90 MB."""
        wanted = pa.array(emails, type=pa.string())
        # each segment email's place in emails (a spilled column: a batch at a time)
        found = [pc.index_in(chunk, value_set=wanted) for chunk in chunks_of(self.emails)]
        slots = pa.concat_arrays(found) if found else pa.array([], pa.int32())
        known = pc.is_valid(slots)
        positions = pc.indices_nonzero(known)
        rows = positions if self._rows is None else self._rows.take(positions)
        columns = self._columns(rows)
        placed: list[dict[str, object] | None] = [None] * len(emails)
        for i, slot in enumerate(slots.filter(known).to_pylist()):
            placed[slot] = _record(columns, i)
        return {email: record for email, record in zip(emails, placed, strict=True) if record}

    def arrow_columns(
        self, positions: pa.Array | None
    ) -> tuple[dict[str, pa.ChunkedArray], set[str]]:
        """The values by key (attributes, then ``properties.<name>``) of the profiles at
        ``positions`` in ``emails`` (None: all of them, zero-copy where the column is Arrow),
        and the keys whose column holds JSON text."""
        if positions is None:
            rows = self._rows
        else:
            rows = positions if self._rows is None else self._rows.take(positions)
        stores = {
            **self._attributes,
            **{f"properties.{name}": store for name, store in self._properties.items()},
        }
        columns: dict[str, pa.ChunkedArray] = {}
        texts: set[str] = set()
        for key, store in stores.items():
            columns[key], as_text = store.arrow(rows)
            if as_text:
                texts.add(key)
        return columns, texts

    def _columns(
        self, rows: pa.Array | None, start: int = 0, length: int = 0
    ) -> dict[str, list[object]]:
        """Values by key of the rows at ``rows`` (None: rows ``start`` .. ``start + length``)."""
        stores = self._stores()
        if rows is None:
            return {key: plain_values(store.slice(start, length)) for key, store in stores.items()}
        return {key: plain_values(store.take(rows)) for key, store in stores.items()}

    def __getitem__(self, email: str) -> dict[str, object]:
        position = self._positions()[email]
        row = position if self._rows is None else self._rows[position].as_py()
        return _record(self._columns(pa.array([row], type=pa.int64())), 0)

    def _positions(self) -> dict[str, int]:
        if self._index is None:
            self._index = {e: i for i, e in enumerate(self)}
        return self._index

    def __contains__(self, email: object) -> bool:
        return email in self._positions()

    def __iter__(self) -> Iterator[str]:
        for chunk in chunks_of(self.emails, _SLICE):
            yield from chunk.to_pylist()

    def __len__(self) -> int:
        return len(self.emails)


def _slice(emails: pa.StringArray | SpilledStrings, start: int, length: int) -> pa.StringArray:
    if isinstance(emails, SpilledStrings):
        return one_array(emails.slice(start, length))
    return emails.slice(start, length)


def _record(columns: Mapping[str, list[object]], row: int) -> dict[str, object]:
    """One profile's non-null fields, custom properties nested under "properties"."""
    found: dict[str, object] = {}
    custom: dict[str, object] = {}
    for key, values in columns.items():
        value = values[row]
        if value is None:
            continue
        if key.startswith("properties."):
            custom[key.removeprefix("properties.")] = value
        else:
            found[key] = value
    if custom:
        found["properties"] = custom
    return found
