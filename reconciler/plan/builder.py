"""Builds one export's plan from its three inputs: a pure function, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.models import Connection, Export
from reconciler.plan.digest import mapping_digest
from reconciler.plan.estimate import apply_estimate
from reconciler.plan.guards import evaluate_guards
from reconciler.plan.model import Estimate, ExportPlan, Fingerprints
from reconciler.sources import SegmentData


@dataclass(frozen=True)
class ListState:
    """A Klaviyo list's current membership: email -> profile id."""

    account: str
    list_id: str
    list_name: str
    members: Mapping[str, str]
    incremental: bool = False

    def digest(self) -> str:
        return mapping_digest(self.members)


def build_export_plan(
    export: Export,
    connection: Connection,
    segment: SegmentData,
    current: ListState,
    *,
    config_digest: str,
    force: bool = False,
) -> ExportPlan:
    """The difference between ``segment`` and ``current``, with guards and an estimate."""
    desired = segment.emails
    members = current.members
    add = sorted(desired.difference(members))
    removed = sorted(members.keys() - desired) if export.mode == "mirror" else []
    guards = evaluate_guards(
        export,
        connection,
        desired=len(desired),
        current=len(members),
        removals=len(removed),
        force=force,
    )
    calls, seconds = apply_estimate(len(add), len(removed))
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
        remove_ids=tuple(map(members.__getitem__, removed)),
        unchanged=len(desired) - len(add),
        current=len(members),
        desired=len(desired),
        rows=segment.rows,
        invalid=segment.invalid,
        duplicates=segment.duplicates,
        invalid_samples=tuple(segment.invalid_samples),
        guards=tuple(guards),
        estimate=Estimate(calls=calls, seconds=seconds),
        fingerprints=Fingerprints(
            config=config_digest, segment=segment.fingerprint, list=current.digest()
        ),
        incremental=current.incremental,
        error=None,
    )


def _fields_of(
    add: list[str], properties: Mapping[str, Mapping[str, object]]
) -> dict[str, dict[str, object]]:
    """The profile fields to send with each added email (those that have any)."""
    if not properties:
        return {}
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
