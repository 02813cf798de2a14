"""The plan's members, column-wise: one Arrow table per kind of change.

A million additions as Python tuples and dicts cost ~700 MB; as Arrow columns they cost the
bytes of the text, and often nothing at all (a first sync's additions are the segment's own
arrays). Tables, by kind:

- additions and updates: ``email``; one column per mapped field key (``first_name``,
  ``properties.tier``: the values to send, null: not sent); ``digest:<key>`` (the 64-bit digest
  of the value, as the state remembers it, 0 for null); with ``null_values: clear``, updates
  also carry ``cleared:<key>`` (true: the key is sent as null);
- removals: ``email`` and ``profile_id``.

A column of values the source gave as mixed Python values holds their JSON text (its field's
metadata says ``json``). Only one slice at a time becomes Python (see :meth:`profiles`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from typing import overload

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.plan.members import EMAIL as EMAIL
from reconciler.plan.members import PROFILE_ID as PROFILE_ID
from reconciler.plan.members import missing_from
from reconciler.sources.fingerprint import field_keys, field_part, text_hash
from reconciler.values import CLEARED as CLEARED
from reconciler.values import JSON_META, ProfileRows, value_array

DIGEST = "digest:"
_SLICE = 10_000


class Emails(Sequence[str]):
    """A read-only sequence view of one string column (Python strings made on access)."""

    def __init__(self, values: pa.Array | pa.ChunkedArray) -> None:
        self.array = values

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):  # a tuple, as a tuple's slice is
            start, stop, step = index.indices(len(self))
            if step == 1:
                return tuple(self.array.slice(start, max(stop - start, 0)).to_pylist())
            return tuple(self[i] for i in range(start, stop, step))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        value: str = self.array[index].as_py()
        return value

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _SLICE):
            yield from self.array.slice(start, _SLICE).to_pylist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Emails):
            return len(self) == len(other) and bool(
                _chunked(self.array).equals(_chunked(other.array))
            )
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Emails({len(self)} values)"


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def same_set(one: Emails, other: Emails) -> bool:
    """Both hold the same values (each unique), in whatever order: compared as Arrow columns."""
    if len(one) != len(other):
        return False
    if not len(one) or one == other:  # the same order: the usual case
        return True
    extra = missing_from(one.array, other.array)
    return not bool(pc.any(extra).as_py())


class MemberRows:
    """One kind of change of one export: an Arrow table, one row per member (see module)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    @classmethod
    def empty(cls) -> MemberRows:
        return cls(pa.table({EMAIL: pa.array([], type=pa.string())}))

    @classmethod
    def removals(cls, emails: Iterable[str], profile_ids: Iterable[str]) -> MemberRows:
        return cls(
            pa.table(
                {
                    EMAIL: pa.array(list(emails), type=pa.string()),
                    PROFILE_ID: pa.array(list(profile_ids), type=pa.string()),
                }
            )
        )

    @classmethod
    def of(
        cls,
        emails: Sequence[str],
        fields: Mapping[str, Mapping[str, object]] | None = None,
        keys: Sequence[str] = (),
        cleared: Mapping[str, Sequence[str]] | None = None,
    ) -> MemberRows:
        """Rows built from Python values (small plans, tests): ``fields`` as the segment gives
        them (``{"first_name": .., "properties": {..}}``), ``keys`` the mapped field keys (in
        the order they are sent), ``cleared`` email -> keys sent as null."""
        wanted = list(keys) or _keys_of(fields or {}, emails)
        flat = [dict(field_keys((fields or {}).get(e) or {})) for e in emails]
        columns: dict[str, pa.Array] = {EMAIL: pa.array(list(emails), type=pa.string())}
        texts: set[str] = set()
        for key in wanted:
            columns[key], as_text = value_array([record.get(key) for record in flat])
            if as_text:
                texts.add(key)
        for key in wanted:
            digests = [
                0 if (v := r.get(key)) is None else text_hash(field_part(key, v)) for r in flat
            ]
            columns[DIGEST + key] = pa.array(digests, type=pa.uint64())
        if cleared is not None:
            for key in wanted:
                flags = [key in cleared.get(e, ()) for e in emails]
                columns[CLEARED + key] = pa.array(flags, type=pa.bool_())
        return cls(table_of(columns, texts))

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __bool__(self) -> bool:
        return int(self.table.num_rows) > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MemberRows):
            return NotImplemented
        return bool(self.table.equals(other.table, check_metadata=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MemberRows({len(self)} rows: {', '.join(self.table.column_names)})"

    @property
    def emails(self) -> Emails:
        return Emails(self.table[EMAIL])

    @property
    def profile_ids(self) -> Emails:
        if PROFILE_ID not in self.table.column_names:
            return Emails(pa.array([], type=pa.string()))
        return Emails(self.table[PROFILE_ID])

    @property
    def keys(self) -> list[str]:
        """The field keys whose values the rows carry, in the order they are sent."""
        return [n for n in self.table.column_names if _is_value(n)]

    def profiles(self, start: int = 0, length: int | None = None) -> ProfileRows:
        """Rows ``start`` .. ``start + length`` as the destination's import input (zero-copy)."""
        part = self.table.slice(start, length)
        names = [n for n in part.column_names if not n.startswith(DIGEST) and n != PROFILE_ID]
        return ProfileRows(part.select(names))

    def as_dict(self) -> dict[str, dict[str, object]]:
        """email -> the fields sent (custom properties nested), for those that have any:
        makes every row Python values (for small plans and tests)."""
        found: dict[str, dict[str, object]] = {}
        for profile in self.profiles().inputs():
            record = dict(profile.attributes)
            if profile.properties:
                record["properties"] = dict(profile.properties)
            if record:
                found[profile.email] = record
        return found

    def digests(self, keys: Sequence[str], without: pa.Array | None = None) -> pa.Table:
        """``email`` and each key's digests (named by the key), without the emails ``without``."""
        table = self.table
        if without is not None and len(without) and len(table):
            table = table.filter(pc.invert(pc.is_in(table[EMAIL], value_set=without)))
        columns = {EMAIL: table[EMAIL]}
        for key in keys:
            name = DIGEST + key
            present = name in table.column_names
            columns[key] = table[name] if present else pa.nulls(len(table), pa.uint64())
        return pa.table(columns)


def _is_value(name: str) -> bool:
    return name not in (EMAIL, PROFILE_ID) and not name.startswith((DIGEST, CLEARED))


def _keys_of(fields: Mapping[str, Mapping[str, object]], emails: Sequence[str]) -> list[str]:
    found: dict[str, None] = {}
    for email in emails:
        for key, _ in field_keys(fields.get(email) or {}):
            found.setdefault(key, None)
    return list(found)


def table_of(columns: Mapping[str, pa.Array | pa.ChunkedArray], texts: Set[str]) -> pa.Table:
    """A table of ``columns``; those named in ``texts`` hold JSON text."""
    fields = [
        pa.field(name, column.type, metadata=JSON_META if name in texts else None)
        for name, column in columns.items()
    ]
    return pa.table(dict(columns), schema=pa.schema(fields))
