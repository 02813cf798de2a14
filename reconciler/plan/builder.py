"""Builds one export's plan from its three inputs: a pure function, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import mask_email
from reconciler.models import Connection, Export
from reconciler.plan.estimate import apply_estimate
from reconciler.plan.guards import evaluate_guards, segment_guards
from reconciler.plan.members import Mask, MemberTable, missing_from, string_array
from reconciler.plan.model import ExportPlan, Fingerprints
from reconciler.plan.subscriptions import Decisions
from reconciler.plan.updates import field_updates, sent_digests, with_clears
from reconciler.sources import SegmentData
from reconciler.sources.fields import ProfileFields
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


def build_export_plan(
    export: Export,
    connection: Connection,
    segment: SegmentData,
    current: ListState,
    *,
    config_digest: str,
    facts: DestinationFacts,
    force: bool = False,
    sent: pa.Table | None = None,
    decisions: Decisions | None = None,
    readded: frozenset[str] = frozenset(),
    readd_departed: bool = False,
) -> ExportPlan:
    """The difference between ``segment`` and ``current``, with guards and an estimate.

    ``sent``: what the state says was last sent per member (field digests, subscriptions);
    ``decisions``: the subscriptions the plan makes (see :mod:`reconciler.plan.subscriptions`).
    Members who left the list outside the reconciler (``current.departed``) are not added
    again: the plan names them ("left outside the reconciler") instead; with
    ``external_removals: readd`` (or ``readd_departed``) they are added again, once: those in
    ``readded`` (re-added before, and gone again) stay out.
    """
    desired = string_array(segment.emails if segment.email_array is None else segment.email_array)
    members = current.members
    missing_mask = missing_from(desired, members.emails)
    missing = sorted(desired.filter(missing_mask).to_pylist())
    left = [e for e in missing if e in current.departed] if current.departed else []
    readd: list[str] = []
    if left and (readd_departed or export.external_removals == "readd"):
        readd = [e for e in left if e not in readded]  # once: one who left again stays out
        left = [e for e in left if e in readded]
    add = (
        [e for e in missing if e not in current.departed or e in set(readd)]
        if left or readd
        else missing
    )
    updates = field_updates(
        desired,
        _digests(segment, desired),
        pc.invert(missing_mask),
        sent,
        clear=export.null_values == "clear",
    )
    del missing_mask
    removed: list[str] = []
    remove_ids: list[str] = []
    kept = 0
    if export.mode == "mirror":
        gone, kept = _not_refused(missing_from(members.emails, desired), members, segment)
        pairs = zip(
            members.emails.filter(gone).to_pylist(),
            members.profile_ids.filter(gone).to_pylist(),
            strict=True,
        )
        removed, remove_ids = _unzip(sorted(pairs))
    guards = evaluate_guards(
        export,
        connection,
        desired=len(desired),
        current=len(members),
        removals=len(removed),
        force=force,
    )
    estimate = apply_estimate(len(add) + len(updates.emails), len(removed), facts)
    chosen = decisions or Decisions()
    # Every value below is built here from trusted inputs: no validation of million-item tuples.
    return ExportPlan.model_construct(
        name=export.name,
        connection=connection.name,
        list_id=export.list_id,
        mode=export.mode,
        account=current.account,
        list_name=current.list_name,
        add=tuple(add),
        add_fields=_fields_of(add, segment.properties),
        remove=tuple(removed),
        remove_ids=tuple(remove_ids),
        unchanged=len(desired) - len(missing),
        current=len(members),
        desired=len(desired),
        rows=segment.rows,
        invalid=segment.invalid,
        duplicates=segment.duplicates,
        invalid_samples=tuple(segment.invalid_samples),
        kept_invalid=kept,
        invalid_phones=segment.invalid_phones,
        invalid_phone_samples=segment.invalid_phone_samples,
        guards=tuple(guards),
        estimate=estimate,
        fingerprints=Fingerprints(
            config=config_digest, segment=segment.fingerprint, list=current.digest()
        ),
        incremental=current.incremental,
        left_outside=len(left),
        readd=tuple(readd),
        left_outside_samples=tuple(mask_email(e) for e in left[:LEFT_SAMPLES]),
        notes=(),
        error=None,
        field_keys=tuple(sorted(segment.field_digests)),
        update=tuple(updates.emails),
        update_fields=with_clears(_fields_of(updates.emails, segment.properties), updates.clears),
        updated_fields=updates.per_field,
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


def _digests(segment: SegmentData, desired: pa.StringArray) -> Mapping[str, pa.UInt64Array]:
    """Each field's digests aligned with ``desired`` (computed again when the segment was
    given as plain Python values, whose order is not the Arrow read's)."""
    if segment.email_array is not None or not segment.field_digests:
        return segment.field_digests
    emails: list[str] = desired.to_pylist()
    table = sent_digests(emails, segment.properties, sorted(segment.field_digests))
    return {key: table[key].combine_chunks() for key in segment.field_digests}


def _historical(export: Export) -> bool:
    return export.subscribe is not None and export.subscribe.historical_import


def _iso(moments: Mapping[str, dt.datetime]) -> dict[str, str]:
    return {email: moment.isoformat() for email, moment in moments.items()}


def _not_refused(gone: Mask, members: MemberTable, segment: SegmentData) -> tuple[Mask, int]:
    """``gone`` without the members whose address is a segment row our validator refused
    (a list member is never removed only because of our own verdict), and how many those are."""
    if segment.rejected is None or not len(segment.rejected) or not len(members):
        return gone, 0
    refused = pc.invert(missing_from(members.emails, segment.rejected))
    held = pc.and_(gone, refused)
    return pc.and_(gone, pc.invert(refused)), int(pc.sum(held).as_py() or 0)


def _unzip(pairs: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return [a for a, _ in pairs], [b for _, b in pairs]


def _fields_of(
    add: list[str], properties: Mapping[str, Mapping[str, object]]
) -> dict[str, dict[str, object]]:
    """The profile fields to send with each added email (those that have any)."""
    if not properties or not add:
        return {}
    if isinstance(properties, ProfileFields):
        return properties.fields_for(add)
    get = properties.get
    return {e: p if type(p) is dict else dict(p) for e in add if (p := get(e))}


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
