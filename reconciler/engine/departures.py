"""Notices members who left a list outside the reconciler, at each read of the list.

A read compares what the reconciler knew with what the list holds now:

- members of the cached membership (the previous read, less the reconciler's own removals)
  who are missing now left outside it: an unsubscribe from a campaign sent to the list, a
  deleted or merged profile, a user's removal (``left``);
- addresses the reconciler's own completed imports added and that are missing now were
  removed before any read saw them (``not_kept``);
- a recorded departure ends when the address is a member again (it came back by itself).

The plan does not re-add the departed (see ``reconciler.plan.builder``). Everything runs on
Arrow columns: a million members are never a million Python strings here.
"""

from __future__ import annotations

import pyarrow.compute as pc

from reconciler.chunkstream import Streamed, is_streamed, regrouped
from reconciler.lookup import PIECE, Keys
from reconciler.plan.members import Strings, missing_from, string_array
from reconciler.state import StateBackend
from reconciler.state.departures import LEFT, NOT_KEPT


def left_since(previous: Strings | Streamed, current: Strings) -> list[str]:
    """The members of ``previous`` (a stream: read once, a chunk at a time) not in ``current``:
    those who left the list since (read before the cache is replaced: it may hold ``previous``)."""
    if not is_streamed(previous):
        return _missing(previous, current) if len(previous) else []
    listed = Keys(current)  # keyed once for every chunk
    return [email for chunk in previous.chunks() for email in _missing(chunk, listed)]


def note_departures(
    state: StateBackend,
    account: str,
    list_id: str,
    current: Strings | Streamed,
    left: list[str] | None,
) -> frozenset[str]:
    """Record the departures this read shows (``left``: see :func:`left_since`); every address
    departed from the list now. A stream of ``current`` is read once for each ``PIECE`` of the
    reconciler's own imports not yet seen in a read (after a first sync of ten million: four
    passes)."""
    ledger = state.departures
    if left:
        ledger.record(account, list_id, left, LEFT)
    listed: Keys | Streamed | None = None  # keyed once for every piece of the imports
    not_kept: list[str] = []
    pieces = ledger.imported_pieces(account, list_id)
    if is_streamed(current):  # each piece is one pass over the list: pieces of PIECE
        pieces = regrouped(pieces, PIECE)
    for piece in pieces:
        if listed is None:
            listed = current if is_streamed(current) else Keys(current)
        not_kept += _missing(piece, listed)
    if listed is not None:
        ledger.record(account, list_id, not_kept, NOT_KEPT)
        ledger.confirm_imported(account, list_id)
    del listed
    departed = ledger.departed(account, list_id)
    if not departed:
        return frozenset()
    known = string_array(sorted(departed))
    back: list[str] = known.filter(pc.invert(missing_from(known, current))).to_pylist()
    if back:
        ledger.forget(account, list_id, back)
    return frozenset(departed.difference(back))


def _missing(values: Strings, current: Strings | Keys | Streamed) -> list[str]:
    found: list[str] = values.filter(missing_from(values, current)).to_pylist()
    return found
