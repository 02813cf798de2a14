"""Scenario 5's pure part: the diff of N desired emails against an N-member list, and the seal."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from reconciler.models import Connection, Export, Fields
from reconciler.plan.builder import ListState, build_export_plan
from reconciler.plan.model import Plan
from reconciler.plan.planfile import seal
from reconciler.sources import SegmentData
from tests.benchmarks.workspace import email


def _inputs(profiles: int, churn: float) -> tuple[SegmentData, ListState]:
    shift = int(profiles * churn)
    desired = frozenset(email(i) for i in range(shift, profiles + shift))
    properties = {e: {"first_name": "Ann"} for e in desired}
    segment = SegmentData(
        segment="all",
        source="files",
        columns=("email", "first_name"),
        rows=len(desired),
        emails=desired,
        properties=properties,
        invalid=0,
        duplicates=0,
        invalid_samples=(),
        duplicate_samples=(),
        fingerprint="0" * 64,
    )
    members = {email(i): f"01PROFILE{i:017d}" for i in range(profiles)}
    return segment, ListState("acct", "AbC123", "Bench", members)


def time_diff(profiles: int, churn: float) -> dict[str, Any]:
    segment, current = _inputs(profiles, churn)
    export = Export(
        kind="Export",
        name="bench",
        segment="all",
        connection="klaviyo",
        list_id="AbC123",
        fields=Fields(email="email", first_name="first_name"),
        limits={"max_profiles": 5_000_000, "max_removals": "50%"},  # type: ignore[arg-type]
    )
    connection = Connection.model_validate(
        {
            "kind": "Connection",
            "name": "klaviyo",
            "display_name": "Bench",
            "api_key": {"env": "BENCH_KLAVIYO_KEY"},
            "consent": {"accepted": True, "accepted_by": "a@b.co", "accepted_at": "2026-11-20"},
        }
    )
    started = time.perf_counter()
    export_plan = build_export_plan(export, connection, segment, current, config_digest="x")
    diffed = time.perf_counter()
    plan = Plan(created_at=dt.datetime.now(dt.UTC), config_dir="x", exports=(export_plan,))
    seal(plan)
    sealed = time.perf_counter()
    return {
        "wall": diffed - started,
        "seal_seconds": sealed - diffed,
        "add": len(export_plan.add),
        "remove": len(export_plan.remove),
    }
