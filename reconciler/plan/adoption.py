"""The first plan of an export over a non-empty list that no run has managed says so."""

from __future__ import annotations

from reconciler.outcomes import Outcome
from reconciler.plan.model import ExportPlan
from reconciler.state.protocol import RunJournal

# outcomes after which the reconciler has changed (or checked) the list's membership
MANAGED = frozenset({Outcome.SUCCEEDED, Outcome.PARTIAL, Outcome.UNCHANGED, Outcome.INTERRUPTED})
RECENT_RUNS = 200


def managed_before(journal: RunJournal, export: str, list_id: str) -> bool:
    """Whether a journaled run of ``export`` (or of any export) has managed ``list_id``."""
    for runs in (journal.list_runs(export=export, limit=20), journal.list_runs(limit=RECENT_RUNS)):
        for run in runs:
            if any(e.list_id == list_id and e.outcome in MANAGED for e in run.exports):
                return True
    return False


def with_adoption_note(plan: ExportPlan, journal: RunJournal) -> ExportPlan:
    """``plan`` with a note when it is the first over a list that already has members."""
    if plan.error is not None or plan.current == 0:
        return plan
    if managed_before(journal, plan.name, plan.list_id):
        return plan
    return plan.model_copy(update={"notes": (*plan.notes, adoption_note(plan))})


def adoption_note(plan: ExportPlan) -> str:
    kept = plan.current - len(plan.remove)
    what = (
        f"this first plan keeps {kept:,} and removes {len(plan.remove):,} members not in the "
        "segment"
        if plan.mode == "mirror"
        else f"add_only keeps all {plan.current:,} members"
    )
    return (
        f"first plan over list {plan.list_id}: it already has {plan.current:,} members that "
        f"no run of the reconciler has managed; {what}"
    )
