"""Digests that identify the inputs of a plan without holding personal data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.sources.fingerprint import text_hash

_MOD = 1 << 64


def set_digest(items: Iterable[str]) -> str:
    """Order-independent digest of a set of strings (sum of 64-bit hashes, and the count)."""
    total = 0
    count = 0
    for item in items:
        h = hashlib.blake2b(item.encode(), digest_size=8).digest()
        total = (total + int.from_bytes(h, "big")) % _MOD
        count += 1
    return f"{count:x}-{total:016x}"


def mapping_digest(pairs: Mapping[str, str]) -> str:
    """Order-independent digest of a str -> str mapping (emails to profile ids): the count and
    the sum modulo 2**64 of a 64-bit hash of each ``key\\0value`` (what
    :meth:`reconciler.plan.members.MemberTable.digest` computes column-wise)."""
    total = sum(text_hash(f"{key}\0{value}") for key, value in pairs.items())
    return pairs_digest(len(pairs), total)


def pairs_digest(count: int, total: int) -> str:
    return f"{count:x}-{total % _MOD:016x}"


def json_digest(value: Any) -> str:
    """SHA-256 of the canonical JSON form of ``value``."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
