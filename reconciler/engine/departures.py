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

from reconciler.lookup import Keys
from reconciler.plan.members import Strings, missing_from, string_array
from reconciler.state import StateBackend
from reconciler.state.departures import LEFT, NOT_KEPT


def note_departures(
    state: StateBackend,
    account: str,
    list_id: str,
    current: Strings,
    previous: Strings | None,
) -> frozenset[str]:
    """Record the departures this read shows; every address departed from the list now."""
    ledger = state.departures
    if previous is not None and len(previous):
        left = _missing(previous, current)
        ledger.record(account, list_id, left, LEFT)
    listed: Keys | None = None  # keyed once for every piece of the imports
    not_kept: list[str] = []
    for piece in ledger.imported_pieces(account, list_id):
        listed = Keys(current) if listed is None else listed
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


def _missing(values: Strings, current: Strings | Keys) -> list[str]:
    found: list[str] = values.filter(missing_from(values, current)).to_pylist()
    return found
