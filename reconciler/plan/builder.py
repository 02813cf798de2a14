"""Builds one export's plan from its three inputs: a pure function, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.models import Connection, Export
from reconciler.plan.digest import set_digest
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
        return set_digest(f"{email}\0{pid}" for email, pid in self.members.items())


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
    add = sorted(desired.difference(current.members))
    removed = (
        sorted(email for email in current.members if email not in desired)
        if export.mode == "mirror"
        else []
    )
    guards = evaluate_guards(
        export,
        connection,
        desired=len(desired),
        current=len(current.members),
        removals=len(removed),
        force=force,
    )
    calls, seconds = apply_estimate(len(add), len(removed))
    fields = {e: dict(segment.properties[e]) for e in add if segment.properties.get(e)}
    return ExportPlan(
        name=export.name,
        connection=connection.name,
        list_id=export.list_id,
        mode=export.mode,
        account=current.account,
        list_name=current.list_name,
        add=tuple(add),
        add_fields=fields,
        remove=tuple(removed),
        remove_ids=tuple(current.members[e] for e in removed),
        unchanged=len(desired) - len(add),
        current=len(current.members),
        desired=len(desired),
        rows=segment.rows,
        invalid=segment.invalid,
        duplicates=segment.duplicates,
        invalid_samples=segment.invalid_samples,
        guards=guards,
        estimate=Estimate(calls=calls, seconds=seconds),
        fingerprints=Fingerprints(
            config=config_digest, segment=segment.fingerprint, list=current.digest()
        ),
        incremental=current.incremental,
    )


def failed_export_plan(export: Export, message: str) -> ExportPlan:
    """An export that could not be planned: blocked with ``message`` as its reason."""
    return ExportPlan(
        name=export.name,
        connection=export.connection,
        list_id=export.list_id,
        mode=export.mode,
        error=message,
    )
