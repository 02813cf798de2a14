"""Fields kept current: which members' mapped values changed since they were last sent.

The state keeps, per member, a 64-bit digest of each field as last sent (see
:mod:`reconciler.state.sent`); the segment read gives the same digest of each current value.
A member whose digests differ is re-sent, with all its (non-null) fields. A null value is
never sent and never counts as a change unless the export says ``null_values: clear``.
Everything is column-wise: the members to update are positions in the segment's arrays
(:func:`field_changes`), which the plan's update table is taken from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.lookup import Keys, index_in

EMAIL = "email"
_ZERO = pa.scalar(0, pa.uint64())


@dataclass(frozen=True)
class FieldChanges:
    """The members to re-send, column-wise: their positions in ``desired``, per field key how
    many of them changed it, and (``null_values: clear``) per key which of them send it as
    null (aligned with ``positions``)."""

    positions: pa.Int64Array
    per_field: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, pa.BooleanArray] = field(default_factory=dict)


_NO_CHANGES = pa.array([], type=pa.int64())


def field_changes(
    desired: pa.StringArray | Keys,
    digests: Mapping[str, pa.UInt64Array],
    staying: pa.BooleanArray,
    sent: pa.Table | None,
    *,
    clear: bool,
) -> FieldChanges:
    """Members of ``desired`` that stay in the list (``staying``) whose field digests differ
    from those last sent (a member never sent counts as sent with every field null).

    Nothing of the size of the list is copied but one slot per member: the segment's emails
    are looked up where they are (not filtered first), the sent emails a slice at a time.
    """
    if not digests or len(desired) == 0 or not pc.any(staying).as_py():
        return FieldChanges(_NO_CHANGES)
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
        return FieldChanges(_NO_CHANGES)
    positions: pa.Int64Array = pc.indices_nonzero(changed_any).cast(pa.int64())
    masks = {key: mask.filter(changed_any) for key, mask in cleared.items()}
    return FieldChanges(positions, per_field, masks)


def _slots(emails: pa.StringArray | Keys, sent: pa.Table | None) -> pa.Array | None:
    """Each email's row in ``sent`` (null where it has none), by the bounded lookup of
    :mod:`reconciler.lookup` (the sent column is taken as the store's log left it)."""
    if sent is None or sent.num_rows == 0:
        return None
    return index_in(emails, sent[EMAIL])


def _stored(sent: pa.Table | None, key: str, slots: pa.Array | None, count: int) -> pa.Array:
    """The digests last sent of ``key`` for each email (0 where none was sent)."""
    if sent is None or slots is None or key not in sent.column_names:
        return pa.nulls(count, pa.uint64()).fill_null(_ZERO)
    return pc.fill_null(sent[key].take(slots), _ZERO)
