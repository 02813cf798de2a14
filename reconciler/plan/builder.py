"""Builds one export's plan from its three inputs: a pure function, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.chunkstream import in_memory
from reconciler.emails import mask_email
from reconciler.lookup import Keys, join
from reconciler.models import Connection, Export
from reconciler.plan.estimate import apply_estimate
from reconciler.plan.guards import evaluate_guards, segment_guards
from reconciler.plan.members import Mask, MemberTable, flags_among, string_array
from reconciler.plan.model import ExportPlan, Fingerprints
from reconciler.plan.rows import CLEARED, DIGEST, EMAIL, MemberRows, table_of
from reconciler.plan.subscriptions import Decisions
from reconciler.plan.updates import field_changes
from reconciler.sources import SegmentData
from reconciler.sources.data import Digests
from reconciler.sources.fields import ProfileFields
from reconciler.spill import SpilledStrings
from reconciler.state.sent import SentRows
from reconciler.values import DestinationFacts

LEFT_SAMPLES = 5


@dataclass(frozen=True, init=False)
class ListState:
    """A Klaviyo list's current membership: email -> profile id, held as Arrow columns."""

    account: str
    list_id: str
    list_name: str
    members: MemberTable
    incremental: bool = False
    departed: frozenset[str] = frozenset()  # left the list outside the reconciler

    def __init__(
        self,
        account: str,
        list_id: str,
        list_name: str,
        members: MemberTable | Mapping[str, str],
        incremental: bool = False,
        departed: frozenset[str] = frozenset(),
    ) -> None:
        table = members if isinstance(members, MemberTable) else MemberTable.from_mapping(members)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "list_id", list_id)
        object.__setattr__(self, "list_name", list_name)
        object.__setattr__(self, "members", table)
        object.__setattr__(self, "incremental", incremental)
        object.__setattr__(self, "departed", departed)

    def digest(self) -> str:
        return self.members.digest()


@dataclass(frozen=True)
class MemberDiff:
    """A segment matched with a list's members: all the plan needs of the list. Once it is
    made the members themselves can go (planning drops its :class:`ListState` before it loads
    what was last sent, so that the two never peak together)."""

    account: str
    list_id: str
    list_name: str
    incremental: bool
    departed: frozenset[str]
    current: int  # members
    digest: str  # the list's fingerprint
    wanted: Keys  # the segment's emails (``wanted.strings``), keyed once for every lookup
    missing: pa.BooleanArray  # per segment email: not a member
    removes: MemberRows  # mirror mode: the members to remove
    kept_invalid: int  # members kept because the validator refused their segment row


def diff_members(
    export: Export, segment: SegmentData, current: ListState, *, digest: str | None = None
) -> MemberDiff:
    """Match the segment's emails with the list's members, both ways in one pass (``digest``:
    the list's fingerprint, when already made)."""
    members = current.members
    wanted = Keys(_desired(segment))  # keyed once: for the list and for the fields last sent
    matched = join(wanted, members.emails)
    missing, listed = pc.invert(matched.found), matched.present
    del matched
    gone, kept = None, 0
    if export.mode == "mirror":
        gone, kept = _not_refused(pc.invert(listed), members, segment)
    del listed
    digest, rows = members.digest_and_rows(gone, digest=digest)  # one pass (maybe stored)
    return MemberDiff(
        account=current.account,
        list_id=current.list_id,
        list_name=current.list_name,
        incremental=current.incremental,
        departed=current.departed,
        current=len(members),
        digest=digest,
        wanted=wanted,
        missing=missing,
        removes=MemberRows(rows) if gone is not None else MemberRows.removals((), ()),
        kept_invalid=kept,
    )


def build_export_plan(
    export: Export,
    connection: Connection,
    segment: SegmentData,
    current: ListState | MemberDiff,
    *,
    config_digest: str,
    facts: DestinationFacts,
    force: bool = False,
    sent: pa.Table | SentRows | None = None,
    decisions: Decisions | None = None,
    readded: frozenset[str] = frozenset(),
    readd_departed: bool = False,
) -> ExportPlan:
    """The difference between ``segment`` and ``current`` (the list, or the segment already
    matched with it by :func:`diff_members`), with guards and an estimate.

    ``sent``: what the state says was last sent per member (field digests, subscriptions);
    ``decisions``: the subscriptions the plan makes (see :mod:`reconciler.plan.subscriptions`).
    Members who left the list outside the reconciler (``current.departed``) are not added
    again: the plan names them ("left outside the reconciler") instead; with
    ``external_removals: readd`` (or ``readd_departed``) they are added again, once: those in
    ``readded`` (re-added before, and gone again) stay out.
    """
    diff = current if isinstance(current, MemberDiff) else diff_members(export, segment, current)
    wanted, missing_mask = diff.wanted, diff.missing
    desired = wanted.strings
    unchanged = len(desired) - int(pc.sum(missing_mask).as_py() or 0)
    add_at, left, readd = _departed(
        desired,
        pc.indices_nonzero(missing_mask),
        diff.departed,
        readded if (readd_departed or export.external_removals == "readd") else None,
    )
    digests = _digests(segment, desired)
    changes = field_changes(
        wanted, digests, pc.invert(missing_mask), sent, clear=export.null_values == "clear"
    )
    del missing_mask, wanted
    removes = diff.removes
    adds = rows_at(segment, desired, add_at, digests)
    updates = rows_at(segment, desired, changes.positions, digests, changes.cleared, clears=True)
    guards = evaluate_guards(
        export,
        connection,
        desired=len(desired),
        current=diff.current,
        removals=len(removes),
        force=force,
    )
    estimate = apply_estimate(len(adds) + len(updates), len(removes), facts)
    chosen = decisions or Decisions()
    # Every value below is built here from trusted inputs: no validation of million-item tuples.
    return ExportPlan.model_construct(
        name=export.name,
        connection=connection.name,
        list_id=export.list_id,
        mode=export.mode,
        account=diff.account,
        list_name=diff.list_name,
        adds=adds,
        removes=removes,
        unchanged=unchanged,
        current=diff.current,
        desired=len(desired),
        rows=segment.rows,
        invalid=segment.invalid,
        duplicates=segment.duplicates,
        invalid_samples=tuple(segment.invalid_samples),
        kept_invalid=diff.kept_invalid,
        invalid_phones=segment.invalid_phones,
        invalid_phone_samples=segment.invalid_phone_samples,
        guards=tuple(guards),
        estimate=estimate,
        fingerprints=Fingerprints(
            config=config_digest, segment=segment.fingerprint, list=diff.digest
        ),
        incremental=diff.incremental,
        left_outside=len(left),
        readd=tuple(readd),
        left_outside_samples=tuple(mask_email(e) for e in left[:LEFT_SAMPLES]),
        notes=(),
        error=None,
        field_keys=tuple(sorted(segment.field_digests)),
        updates=updates,
        updated_fields=changes.per_field,
        null_values=export.null_values,
        subscribe=tuple(sorted(chosen.subscribe)),
        subscribe_channels=chosen.subscribe,
        subscribe_phones=chosen.phones,
        subscribe_consented_at=_iso(chosen.consented_at) if _historical(export) else {},
        historical_import=_historical(export),
        already_subscribed=chosen.already,
        subscribe_skipped=chosen.skipped,
        subscribe_skipped_samples=tuple(chosen.samples),
    )


def _digests(
    segment: SegmentData, desired: pa.StringArray | SpilledStrings
) -> Mapping[str, Digests]:
    """Each field's digests aligned with ``desired`` (computed again when the segment was
    given as plain Python values, whose order is not the Arrow read's)."""
    if segment.email_array is not None or not segment.field_digests:
        return segment.field_digests
    emails: list[str] = in_memory(desired).to_pylist()
    keys = sorted(segment.field_digests)
    table = MemberRows.of(emails, segment.properties, keys).table
    return {key: table[DIGEST + key].combine_chunks() for key in keys}


def _departed(
    desired: pa.StringArray | SpilledStrings,
    missing: pa.Int64Array,
    departed: frozenset[str],
    readded: frozenset[str] | None,
) -> tuple[pa.Array, list[str], list[str]]:
    """Of the ``missing`` positions, those to add; the members who left the list outside the
    reconciler and stay out; those added again (``readded`` not None: readd is on, except
    for those re-added before). The departed are few: only they become Python strings."""
    if not departed or not len(missing):
        return missing, [], []
    emails = desired.take(missing)
    known = pa.array(sorted(departed), type=pa.string())
    gone = pc.is_in(emails, value_set=known)
    found: list[str] = sorted(emails.filter(gone).to_pylist())
    if readded is None:
        return missing.filter(pc.invert(gone)), found, []
    readd = [e for e in found if e not in readded]  # once: one who left again stays out
    left = [e for e in found if e in readded]
    stays_out = pc.is_in(emails, value_set=pa.array(left, type=pa.string()))
    return missing.filter(pc.invert(stays_out)), left, readd


def rows_at(
    segment: SegmentData,
    desired: pa.StringArray | SpilledStrings,
    positions: pa.Array,
    digests: Mapping[str, Digests],
    cleared: Mapping[str, pa.BooleanArray] | None = None,
    *,
    clears: bool = False,
) -> MemberRows:
    """The members at ``positions`` of ``desired`` with their fields' values and digests
    (all of them, in order, take nothing: the segment's own arrays are the table's)."""
    every = len(positions) == len(desired)  # positions ascend: all of them, in order
    where = None if every else positions
    emails = in_memory(desired) if where is None else desired.take(where)
    properties = segment.properties
    if properties and not isinstance(properties, ProfileFields):
        plain: list[str] = emails.to_pylist()
        chosen = {e: keys_sent_as_null(cleared, i) for i, e in enumerate(plain)} if clears else None
        return MemberRows.of(plain, properties, list(_keys_in_order(segment)), chosen)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {EMAIL: emails}
    texts: set[str] = set()
    if isinstance(properties, ProfileFields):
        values, texts = properties.arrow_columns(where)
        columns |= values
    for key in columns.copy():
        if key != EMAIL and key in digests:
            found = digests[key]  # a spilled column: read back whole or at the rows
            columns[DIGEST + key] = in_memory(found) if where is None else found.take(where)
    if clears:
        empty = pa.array([False] * len(emails), type=pa.bool_())
        for key in [k for k in columns if k != EMAIL and not k.startswith(DIGEST)]:
            columns[CLEARED + key] = (cleared or {}).get(key, empty)
    return MemberRows(table_of(columns, texts))


def _keys_in_order(segment: SegmentData) -> list[str]:
    return sorted(segment.field_digests)


def keys_sent_as_null(cleared: Mapping[str, pa.BooleanArray] | None, row: int) -> list[str]:
    if not cleared:
        return []
    return [key for key, mask in cleared.items() if mask[row].as_py()]


def _historical(export: Export) -> bool:
    return export.subscribe is not None and export.subscribe.historical_import


def _iso(moments: Mapping[str, dt.datetime]) -> dict[str, str]:
    return {email: moment.isoformat() for email, moment in moments.items()}


def _desired(segment: SegmentData) -> pa.StringArray | SpilledStrings:
    if isinstance(segment.email_array, SpilledStrings):
        return segment.email_array
    return string_array(segment.emails if segment.email_array is None else segment.email_array)


def _not_refused(gone: Mask, members: MemberTable, segment: SegmentData) -> tuple[Mask, int]:
    """``gone`` without the members whose address is a segment row our validator refused
    (a list member is never removed only because of our own verdict), and how many those are."""
    if segment.rejected is None or not len(segment.rejected) or not len(members):
        return gone, 0
    refused = flags_among(members.emails, segment.rejected)
    held = pc.and_(gone, refused)
    return pc.and_(gone, pc.invert(refused)), int(pc.sum(held).as_py() or 0)


def failed_export_plan(export: Export, message: str) -> ExportPlan:
    """An export that could not be planned: blocked with ``message`` as its reason."""
    return ExportPlan(
        name=export.name,
        connection=export.connection,
        list_id=export.list_id,
        mode=export.mode,
        error=message,
    )


def unlisted_export_plan(
    export: Export,
    connection: Connection,
    message: str,
    segment: SegmentData,
    *,
    force: bool = False,
) -> ExportPlan:
    """An export whose list could not be read: blocked with ``message``, and showing what the
    segment alone tells (its counts and the guards that need no list)."""
    desired = len(segment.emails) if segment.email_array is None else len(segment.email_array)
    counts: dict[str, object] = {"desired": desired, "rows": segment.rows}
    counts |= {"invalid": segment.invalid, "duplicates": segment.duplicates}
    counts["invalid_samples"] = tuple(segment.invalid_samples)
    guards = segment_guards(export, connection, desired=desired, force=force)
    return failed_export_plan(export, message).model_copy(update={**counts, "guards": guards})
