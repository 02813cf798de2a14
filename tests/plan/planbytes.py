"""A plan file's pieces, for tests that edit one as an attacker would (see planfile.py)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.plan.planfile import DIGEST_BYTES, MAGIC

LENGTH = 8


def split_file(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The header as JSON data, and the table streams that follow it (without the digest)."""
    assert data.startswith(MAGIC)
    at = len(MAGIC)
    length = int.from_bytes(data[at : at + LENGTH], "big")
    header = json.loads(data[at + LENGTH : at + LENGTH + length])
    return header, data[at + LENGTH + length : -DIGEST_BYTES]


def join_file(header: bytes, tables: bytes) -> bytes:
    """A plan file of ``header`` (JSON text) and ``tables``, with its digest recomputed."""
    body = MAGIC + len(header).to_bytes(LENGTH, "big") + header + tables
    return body + hashlib.sha256(body).digest()
