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

from reconciler.chunkstream import chunks_of, one_array
from reconciler.lookup import Keys, index_in, marked
from reconciler.sources.data import Digests
from reconciler.state.sent import SentRows, pieces_of

EMAIL = "email"
_ZERO = pa.scalar(0, pa.uint64())
# Sent rows looked up at a time: a piece held about 107 bytes a row while it was looked up and
# checked (2.5 million: 267 MB, the incremental plan's peak at ten million); each piece costs a
# pass over the segment's keys
PIECE = 1_250_000


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
    digests: Mapping[str, Digests],
    staying: pa.BooleanArray,
    sent: pa.Table | SentRows | None,
    *,
    clear: bool,
) -> FieldChanges:
    """Members of ``desired`` that stay in the list (``staying``) whose field digests differ
    from those last sent (a member never sent counts as sent with every field null).

    ``sent`` is read a piece (``PIECE`` rows) at a time: each piece's emails are looked up
    among ``desired`` (keyed once), its digests compared with the current ones of the members
    it names, and the members that differ are marked. Nothing of the size of ``sent`` is held
    but one bit a member (a layout of its emails held 26 bytes a member).
    """
    if not digests or len(desired) == 0 or not pc.any(staying).as_py():
        return FieldChanges(_NO_CHANGES)
    wanted = desired if isinstance(desired, Keys) else Keys(desired)
    differ, recorded = _compared(wanted, digests, sent)
    changed_any: pa.BooleanArray | None = None
    per_field: dict[str, int] = {}
    cleared: dict[str, pa.BooleanArray] = {}
    for key in sorted(digests):
        valued = _not_null(digests[key])
        # a member never sent differs where its value is not null (as if sent as null)
        unsent = pc.and_(pc.invert(recorded), valued)
        changed = pc.and_(pc.or_(differ[key], unsent), staying)
        if clear:
            cleared[key] = pc.and_(changed, pc.invert(valued))
        else:
            changed = pc.and_(changed, valued)
        count = pc.sum(changed).as_py() or 0
        if count:
            per_field[key] = count
        changed_any = changed if changed_any is None else pc.or_(changed_any, changed)
    if changed_any is None or not per_field:
        return FieldChanges(_NO_CHANGES)
    positions: pa.Int64Array = pc.indices_nonzero(changed_any).cast(pa.int64())
    masks = {key: mask.filter(changed_any) for key, mask in cleared.items()}
    return FieldChanges(positions, per_field, masks)


def _not_null(digests: Digests) -> pa.BooleanArray:
    """Per member, whether its value is not null (digest 0: null; a spilled column is read a
    batch at a time, into one bit a member)."""
    flags = [pc.not_equal(chunk, _ZERO) for chunk in chunks_of(digests)]
    return pa.concat_arrays(flags) if flags else pa.array([], pa.bool_())


def _compared(
    wanted: Keys, digests: Mapping[str, Digests], sent: pa.Table | SentRows | None
) -> tuple[dict[str, pa.BooleanArray], pa.BooleanArray]:
    """Per key, the members whose digest differs from the one last sent; and the members
    ``sent`` has a row for (a piece of ``sent`` at a time)."""
    count = len(wanted)
    nothing = marked(pa.array([], pa.int64()), count)
    differ: dict[str, list[pa.Array | pa.ChunkedArray]] = {key: [] for key in digests}
    recorded = nothing
    for piece in pieces_of(sent, PIECE):
        places = index_in(piece[EMAIL], wanted)  # a null (forgotten) email is nobody
        found = pc.is_valid(places)
        hits = places.filter(found)
        if not len(hits):
            continue
        recorded = pc.or_(recorded, marked(hits, count))
        for key in digests:
            last = _last_sent(piece, key, found, len(hits))
            current = one_array(digests[key].take(hits))  # a spilled column: its batches
            differ[key].append(hits.filter(pc.not_equal(current, last)))
    marks = {key: marked(_joined(parts), count) for key, parts in differ.items()}
    return marks, recorded


def _last_sent(piece: pa.Table, key: str, found: pa.BooleanArray, hits: int) -> pa.Array:
    """The digests of ``key`` last sent to the members found (0: never sent, or as null)."""
    if key not in piece.column_names:
        return pa.nulls(hits, pa.uint64()).fill_null(_ZERO)
    return pc.fill_null(piece[key].filter(found), _ZERO)


def _joined(parts: list[pa.Array | pa.ChunkedArray]) -> pa.Array:
    """The positions of every piece in one array (a small lookup gives them chunked)."""
    chunks = [c for p in parts for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.int64())
