"""Plans built directly, for tests of rendering, plan files and staleness."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.plan.model import Estimate, ExportPlan, Fingerprints, GuardResult, Plan
from reconciler.plan.planfile import seal
from reconciler.plan.rows import MemberRows


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
    return ExportPlan(**with_rows(values))  # type: ignore[arg-type]


def with_rows(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``add`` (and ``add_fields``), ``update`` (``update_fields``), ``remove``
    and ``remove_ids`` given as Python values turned into the plan's member tables."""
    out = dict(values)
    keys = tuple(out.get("field_keys", ()))
    if "add" in out or "add_fields" in out:
        out["adds"] = MemberRows.of(out.pop("add", ()), out.pop("add_fields", {}), keys)
    if "update" in out or "update_fields" in out:
        out["updates"] = MemberRows.of(out.pop("update", ()), out.pop("update_fields", {}), keys)
    if "remove" in out or "remove_ids" in out:
        out["removes"] = MemberRows.removals(out.pop("remove", ()), out.pop("remove_ids", ()))
    return out


def plan_of(*exports: ExportPlan) -> Plan:
    return seal(
        Plan(
            created_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
            config_dir="exports",
            exports=exports,
        )
    )
