"""Safety guards: the per-export profile cap, the removal threshold, the empty-segment guard
and consent. A tripped guard blocks its export unless forced (consent cannot be forced)."""

from __future__ import annotations

from reconciler.models import Connection, Export
from reconciler.plan.model import GuardResult

MIN_LIST_FOR_PERCENT = 10


def removal_allowance(export: Export, current: int) -> int | None:
    """Most removals allowed for a list of ``current`` members; None means unlimited."""
    limit = export.limits.max_removals
    if isinstance(limit, int):
        return limit
    if current < MIN_LIST_FOR_PERCENT:
        return None
    return int(current * float(limit.rstrip("%")) / 100)


def evaluate_guards(
    export: Export,
    connection: Connection,
    *,
    desired: int,
    current: int,
    removals: int,
    force: bool,
) -> tuple[GuardResult, ...]:
    """Every guard of ``export`` on this change, tripped or not."""
    return (
        *segment_guards(export, connection, desired=desired, force=force),
        _max_removals(export, current, removals, force),
        _allow_empty(export, desired, current, force),
    )


def segment_guards(
    export: Export, connection: Connection, *, desired: int, force: bool
) -> tuple[GuardResult, ...]:
    """The guards that need no list: what can be checked when the list cannot be read."""
    return (_consent(connection), _max_profiles(export, desired, force))


def _consent(connection: Connection) -> GuardResult:
    consent = connection.consent
    ok = bool(consent and consent.accepted and consent.accepted_by and consent.accepted_at)
    message = (
        "consent accepted"
        if ok
        else f"connection '{connection.name}' has no accepted data-privacy consent "
        "(consent.accepted, accepted_by, accepted_at); this cannot be forced"
    )
    return GuardResult(name="consent", tripped=not ok, message=message)


def _max_profiles(export: Export, desired: int, force: bool) -> GuardResult:
    cap = export.limits.max_profiles
    tripped = desired > cap
    message = (
        f"segment has {desired:,} profiles, over limits.max_profiles {cap:,} "
        "(raise it in the export or use --force)"
        if tripped
        else f"{desired:,} profiles within limits.max_profiles {cap:,}"
    )
    return GuardResult(
        name="max_profiles", tripped=tripped, message=message, forced=tripped and force
    )


def _max_removals(export: Export, current: int, removals: int, force: bool) -> GuardResult:
    allowed = removal_allowance(export, current)
    tripped = allowed is not None and removals > allowed
    limit = export.limits.max_removals
    message = (
        f"{removals:,} removals of {current:,} members exceed limits.max_removals {limit} "
        f"(at most {allowed:,}; raise it or use --force)"
        if tripped
        else f"{removals:,} removals within limits.max_removals {limit}"
    )
    return GuardResult(
        name="max_removals", tripped=tripped, message=message, forced=tripped and force
    )


def _allow_empty(export: Export, desired: int, current: int, force: bool) -> GuardResult:
    empties = export.mode == "mirror" and desired == 0 and current > 0
    tripped = empties and not export.limits.allow_empty
    message = (
        f"the segment is empty and would empty a list of {current:,} members "
        "(set limits.allow_empty: true or use --force)"
        if tripped
        else "the segment is not empty, or emptying is allowed"
    )
    return GuardResult(
        name="allow_empty", tripped=tripped, message=message, forced=tripped and force
    )
