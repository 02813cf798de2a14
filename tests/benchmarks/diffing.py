"""Scenario 5's pure part: the diff of N desired emails against an N-member list, and the seal.

The inputs are what ``reconciler plan`` diffs: the segment as the source reader returns it
(read, untimed, from the benchmark's segment file) and the list as Arrow columns of emails and
profile ids (as the membership cache loads them). Only the plan builder and the seal are timed.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from reconciler.chunkstream import in_memory
from reconciler.config import load_config
from reconciler.klaviyo.facts import FACTS
from reconciler.plan.builder import ListState, build_export_plan
from reconciler.plan.members import MemberTable
from reconciler.plan.model import Plan
from reconciler.plan.planfile import seal
from reconciler.sources import SegmentData, read_segment
from tests.benchmarks.workspace import emails

CHUNK = 200_000


def _list_columns(profiles: int) -> MemberTable:
    """Members 0 .. profiles - 1 with synthetic profile ids, as chunked Arrow columns."""
    email_chunks, id_chunks = [], []
    for lo in range(0, profiles, CHUNK):
        hi = min(lo + CHUNK, profiles)
        email_chunks.append(pa.array(emails(lo, hi), type=pa.string()))
        id_chunks.append(pa.array([f"01PROFILE{i:017d}" for i in range(lo, hi)], pa.string()))
    return MemberTable(pa.chunked_array(email_chunks), pa.chunked_array(id_chunks))


def _sent_as_now(segment: SegmentData) -> pa.Table | None:
    """A list the reconciler manages: the state says each member's fields were sent as they
    are now (so the diff is membership only; a never-sent list re-sends every field once)."""
    if segment.email_array is None or not segment.field_digests:
        return None
    digests = {key: in_memory(d) for key, d in segment.field_digests.items()}  # maybe spilled
    return pa.table({"email": in_memory(segment.email_array), **digests})


def time_diff(config_dir: Path, export_name: str, profiles: int) -> dict[str, Any]:
    config = load_config(config_dir)
    export = config.exports[export_name]
    connection = config.connections[export.connection]
    segment = read_segment(config, export, config_dir)
    current = ListState("acct", export.list_id, "Bench", _list_columns(profiles))
    sent = _sent_as_now(segment)
    started = time.perf_counter()
    export_plan = build_export_plan(
        export, connection, segment, current, config_digest="x", facts=FACTS, sent=sent
    )
    diffed = time.perf_counter()
    plan = Plan(created_at=dt.datetime.now(dt.UTC), config_dir="x", exports=(export_plan,))
    seal(plan)
    sealed = time.perf_counter()
    return {
        "wall": diffed - started,
        "seal_seconds": sealed - diffed,
        "add": len(export_plan.add),
        "remove": len(export_plan.remove),
        "update": len(export_plan.update),
    }
