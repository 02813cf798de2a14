"""An apply is a list of stages built from the plan, run one after another by one loop.

Each stage is a small object with its own progress task, its own stop point (it checks the
stop signal between slices) and its own part of the journal record (fields of
:class:`ExportOutcome`). Adding a stage is a new module here and one line in
:func:`build_stages`; no other stage changes. Anchor: sqlmesh's ``build_plan_stages``.
"""

from __future__ import annotations

from typing import Protocol

from reconciler.engine.stages.context import (
    DEFAULT_SLICING,
    ExportOutcome,
    Slicing,
    StageContext,
)
from reconciler.engine.stages.imports import SubmitImports
from reconciler.engine.stages.remembering import RememberSent
from reconciler.engine.stages.removals import RemoveMembers
from reconciler.engine.stages.subscribing import SubscribeProfiles
from reconciler.engine.stages.waiting import WaitForImports
from reconciler.plan.model import ExportPlan

__all__ = [
    "DEFAULT_SLICING",
    "ExportOutcome",
    "Slicing",
    "Stage",
    "StageContext",
    "build_stages",
]


class Stage(Protocol):
    """One step of an export's apply."""

    name: str

    async def run(self, ctx: StageContext) -> None: ...


def build_stages(plan: ExportPlan) -> list[Stage]:
    """The stages ``plan`` needs, in order. The import jobs are submitted first: the
    destination processes them while the removals are sent, and the last stage waits."""
    needed: list[tuple[object, Stage]] = [
        (plan.add, SubmitImports()),
        (plan.update, SubmitImports(name="import-update", kind="update")),
        (plan.remove_ids, RemoveMembers()),
        (plan.add, WaitForImports()),
        (plan.update, WaitForImports(name="wait-update", kind="update")),
        (plan.subscribe, SubscribeProfiles()),
        (plan.field_keys or plan.subscribe or plan.already_subscribed, RememberSent()),
    ]
    return [stage for wanted, stage in needed if wanted]
