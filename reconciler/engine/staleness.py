"""Refuses a saved plan that no longer matches the world: config, segment or list changed."""

from __future__ import annotations

from reconciler.errors import StalePlanError
from reconciler.models import Config, Export
from reconciler.plan.model import ExportPlan, Plan
from reconciler.plan.rows import same_set


def exports_of_plan(config: Config, saved: Plan) -> list[Export]:
    """The exports a saved plan covers; each must still be an enabled export of the config."""
    exports: list[Export] = []
    problems: list[str] = []
    for ep in saved.exports:
        export = config.exports.get(ep.name)
        if export is None:
            problems.append(f"export '{ep.name}' is no longer in the configuration")
        elif not export.enabled:
            problems.append(f"export '{ep.name}' is disabled in the configuration")
        elif export.list_id != ep.list_id or export.connection != ep.connection:
            problems.append(f"export '{ep.name}' now targets another list or connection")
        else:
            exports.append(export)
    if problems:
        raise StalePlanError("the plan is stale: " + "; ".join(problems))
    return exports


def check_current(saved: Plan, fresh: Plan) -> None:
    """Raise StalePlanError unless every export of ``fresh`` matches ``saved`` exactly."""
    by_name = {ep.name: ep for ep in fresh.exports}
    problems = [
        problem for ep in saved.exports for problem in _differences(ep, by_name.get(ep.name))
    ]
    if problems:
        raise StalePlanError("the plan is stale: " + "; ".join(problems))


def _differences(saved: ExportPlan, fresh: ExportPlan | None) -> list[str]:
    name = f"export '{saved.name}'"
    if fresh is None:
        return [f"{name} is not planned any more"]
    if fresh.error:
        return [f"{name} cannot be planned now: {fresh.error}"]
    old, new = saved.fingerprints, fresh.fingerprints
    found: list[str] = []
    if old is None or new is None:
        return [f"{name} has no recorded inputs to compare"]
    if old.config != new.config:
        found.append(f"{name}: its configuration changed")
    if old.segment != new.segment:
        found.append(f"{name}: segment content changed")
    if old.list != new.list:
        found.append(f"{name}: list {saved.list_id} membership changed in Klaviyo")
    if not found and not (
        same_set(saved.add, fresh.add) and same_set(saved.remove_ids, fresh.remove_ids)
    ):
        found.append(f"{name}: the computed change differs")
    if not found and saved.blocked != fresh.blocked:
        found.append(f"{name}: its guards now evaluate differently")
    return found
