"""Plan files: the complete plan as JSON with a checksum over its content.

A plan file holds email addresses (personal data): it is written readable by its owner only,
through a temporary file created exclusively (0600) next to it and renamed over it; a symbolic
link is never written through. Reading accepts only a regular file and at most 1 GiB of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
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
    """Write ``plan`` (sealed) to ``path``, owner-readable only, atomically.

    The content goes to a new file (``O_EXCL``, mode 0600, a random name in the target's
    directory: a leftover or planted temporary file is never reused), then replaces ``path``.
    """
    sealed = seal(plan) if not plan.checksum else plan
    _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot write the plan file ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(sealed.__pydantic_serializer__.to_json(sealed))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot write the plan file ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _check_target(path: Path) -> None:
    if path.is_symlink():
        raise PlanFileError(
            f"{path}: is a symbolic link; a plan file is never written through one "
            "(give --out a path that is not a link)"
        )
    if path.exists() and not path.is_file():
        raise PlanFileError(f"{path}: exists and is not a regular file")


def _read_bounded(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most the limit (no FIFO, no device)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    with open(os.open(path, flags), "rb") as fh:  # non-blocking: opening a FIFO cannot hang
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PlanFileError(
                f"{path}: not a regular file; a plan file is what 'reconciler plan --out' wrote"
            )
        if info.st_size > MAX_PLAN_FILE_BYTES:
            raise PlanFileError(
                f"{path}: plan file is {info.st_size:,} bytes, over the 1 GiB limit"
            )
        data = fh.read(MAX_PLAN_FILE_BYTES + 1)  # the file may have grown since fstat
    if len(data) > MAX_PLAN_FILE_BYTES:
        raise PlanFileError(f"{path}: plan file is over the 1 GiB limit")
    return data


def read_plan(path: Path) -> Plan:
    """Read and verify a plan file; raises PlanFileError when unreadable or tampered with."""
    try:
        raw = json.loads(_read_bounded(path))
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
