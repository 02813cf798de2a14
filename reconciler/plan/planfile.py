"""Plan files: the complete plan as JSON with a checksum over its content.

A plan file holds email addresses (personal data): it is written readable by its owner only.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pydantic import ValidationError

from reconciler.errors import PlanFileError
from reconciler.plan.model import PLAN_FORMAT_VERSION, Plan

MAX_PLAN_FILE_BYTES = 1 << 30


def plan_checksum(plan: Plan) -> str:
    """SHA-256 over every field of the plan except the checksum itself.

    Over the JSON the plan file holds (pydantic's serializer: fields in declaration order, dicts
    in insertion order, both kept by a write and read): a million-email plan takes a fraction of
    a second, where a sorted-keys ``json.dumps`` of the dumped model took seconds. The
    serializer's bytes are hashed as they come (``model_dump_json`` would decode them into a
    string, and hashing would encode that again: two more copies of a first sync's plan).
    """
    encoded = plan.__pydantic_serializer__.to_json(plan, exclude={"checksum"})
    return hashlib.sha256(encoded).hexdigest()


def seal(plan: Plan) -> Plan:
    """The same plan with its checksum set."""
    return plan.model_copy(update={"checksum": plan_checksum(plan)})


def write_plan(plan: Plan, path: Path) -> None:
    """Write ``plan`` (sealed) to ``path``, owner-readable only, atomically."""
    sealed = seal(plan) if not plan.checksum else plan
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(sealed.__pydantic_serializer__.to_json(sealed))
    os.replace(tmp, path)


def read_plan(path: Path) -> Plan:
    """Read and verify a plan file; raises PlanFileError when unreadable or tampered with."""
    try:
        size = path.stat().st_size
        if size > MAX_PLAN_FILE_BYTES:
            raise PlanFileError(f"{path}: plan file is {size:,} bytes, over the 1 GiB limit")
        raw = json.loads(path.read_bytes())
    except PlanFileError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        raise PlanFileError(f"{path}: not a readable plan file ({type(exc).__name__})") from None
    if not isinstance(raw, dict) or raw.get("version") != PLAN_FORMAT_VERSION:
        raise PlanFileError(f"{path}: not a plan file of format version {PLAN_FORMAT_VERSION}")
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path}: malformed plan file at '{where}': {first['msg']}") from None
    if plan.checksum != plan_checksum(plan):
        raise PlanFileError(
            f"{path}: checksum mismatch: the plan file was modified after it was written; "
            "run 'reconciler plan --out FILE' again"
        )
    return plan
