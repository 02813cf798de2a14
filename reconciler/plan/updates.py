"""Fields kept current: which members' mapped values changed since they were last sent.

The state keeps, per member, a 64-bit digest of each field as last sent (see
:mod:`reconciler.state.sent`); the segment read gives the same digest of each current value.
A member whose digests differ is re-sent, with all its (non-null) fields. A null value is
never sent and never counts as a change unless the export says ``null_values: clear``.
Everything is column-wise: only the members to update become Python strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.plan.lookup import index_in
from reconciler.sources.fingerprint import field_keys, field_part, text_hash

EMAIL = "email"
_ZERO = pa.scalar(0, pa.uint64())


@dataclass(frozen=True)
class FieldUpdates:
    """The members to re-send and, per field key, how many of them changed it."""

    emails: list[str] = field(default_factory=list)
    per_field: dict[str, int] = field(default_factory=dict)
    clears: dict[str, list[str]] = field(default_factory=dict)  # email -> keys sent as null


def field_updates(
    desired: pa.StringArray,
    digests: Mapping[str, pa.UInt64Array],
    staying: pa.BooleanArray,
    sent: pa.Table | None,
    *,
    clear: bool,
) -> FieldUpdates:
    """Members of ``desired`` that stay in the list (``staying``) whose field digests differ
    from those last sent (a member never sent counts as sent with every field null).

    Nothing of the size of the list is copied but one slot per member: the segment's emails
    are looked up where they are (not filtered first), the sent emails a slice at a time.
    """
    if not digests or len(desired) == 0 or not pc.any(staying).as_py():
        return FieldUpdates()
    slots = _slots(desired, sent)
    changed_any: pa.BooleanArray | None = None
    per_field: dict[str, int] = {}
    cleared: dict[str, pa.BooleanArray] = {}
    for key in sorted(digests):
        current = digests[key]
        changed = pc.and_(pc.not_equal(current, _stored(sent, key, slots, len(desired))), staying)
        if clear:
            cleared[key] = pc.and_(changed, pc.equal(current, _ZERO))
        else:
            changed = pc.and_(changed, pc.not_equal(current, _ZERO))
        count = pc.sum(changed).as_py() or 0
        if count:
            per_field[key] = count
        changed_any = changed if changed_any is None else pc.or_(changed_any, changed)
    del slots
    if changed_any is None or not per_field:
        return FieldUpdates()
    chosen: list[str] = sorted(desired.filter(changed_any).to_pylist())
    clears: dict[str, list[str]] = {}
    for key, mask in cleared.items():
        for email in desired.filter(mask).to_pylist():
            clears.setdefault(email, []).append(key)
    return FieldUpdates(chosen, per_field, clears)


def _slots(emails: pa.StringArray, sent: pa.Table | None) -> pa.Int64Array | None:
    """Each email's row in ``sent`` (null where it has none), by the bounded lookup of
    :mod:`reconciler.plan.lookup` (the sent column is taken as the store's log left it)."""
    if sent is None or sent.num_rows == 0:
        return None
    return index_in(emails, sent[EMAIL])


def _stored(sent: pa.Table | None, key: str, slots: pa.Array | None, count: int) -> pa.Array:
    """The digests last sent of ``key`` for each email (0 where none was sent)."""
    if sent is None or slots is None or key not in sent.column_names:
        return pa.nulls(count, pa.uint64()).fill_null(_ZERO)
    return pc.fill_null(sent[key].take(slots), _ZERO)


def with_clears(
    fields: dict[str, dict[str, object]], clears: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, object]]:
    """``fields`` with each cleared key present as None (sent as JSON null)."""
    for email, keys in clears.items():
        record = fields.setdefault(email, {})
        for key in keys:
            if key.startswith("properties."):
                custom = record.setdefault("properties", {})
                if isinstance(custom, dict):
                    custom[key.removeprefix("properties.")] = None
            else:
                record[key] = None
    return fields


def sent_digests(
    emails: Sequence[str], fields: Mapping[str, Mapping[str, object]], keys: Sequence[str]
) -> pa.Table:
    """The digests of what is sent for ``emails`` (their ``fields``; a key absent or null: 0),
    as the state keeps them."""
    columns: dict[str, list[int]] = {key: [] for key in keys}
    for email in emails:
        flat = dict(field_keys(fields.get(email) or {}))
        for key in keys:
            value = flat.get(key)
            columns[key].append(0 if value is None else text_hash(field_part(key, value)))
    table = {EMAIL: pa.array(list(emails), type=pa.string())}
    table |= {key: pa.array(values, type=pa.uint64()) for key, values in columns.items()}
    return pa.table(table)
