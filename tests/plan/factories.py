"""Plans built directly, for tests of rendering, plan files and staleness."""

from __future__ import annotations

import datetime as dt

from reconciler.plan.model import Estimate, ExportPlan, Fingerprints, GuardResult, Plan
from reconciler.plan.planfile import seal


def export_plan(name: str = "vip", adds: int = 3, removes: int = 1, **kw: object) -> ExportPlan:
    add = tuple(f"new.person.{i}@example.com" for i in range(adds))
    remove = tuple(f"old.person.{i}@example.com" for i in range(removes))
    values: dict[str, object] = {
        "name": name,
        "connection": "klaviyo-marketing",
        "list_id": "Y6nRLr",
        "mode": "mirror",
        "account": "acct1",
        "add": add,
        "remove": remove,
        "remove_ids": tuple(f"01J{i:023d}" for i in range(removes)),
        "unchanged": 10,
        "current": 10 + removes,
        "desired": 10 + adds,
        "guards": (GuardResult(name="max_removals", tripped=False, message="ok"),),
        "estimate": Estimate(calls=2, seconds=0.0),
        "fingerprints": Fingerprints(config="c1", segment="s1", list="l1"),
    }
    values.update(kw)
    return ExportPlan(**values)  # type: ignore[arg-type]


def plan_of(*exports: ExportPlan) -> Plan:
    return seal(
        Plan(
            created_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
            config_dir="exports",
            exports=exports,
        )
    )
