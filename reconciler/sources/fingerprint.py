"""An order-independent content fingerprint of a segment: its emails and their mapped fields.

Each profile becomes a text: the email alone when the export maps no extra field, else
``email\\0{canonical JSON of its mapped fields}``. The first 8 bytes of the text's MD5 digest,
read as a little-endian unsigned integer, are summed modulo 2**64 over all profiles; the
fingerprint is ``{count:x}-{sum:016x}``. Reordering rows never changes it; changing, adding or
removing any email or mapped value does. (MD5 identifies content here; it protects nothing.)
The same sum is computed inside DuckDB (``FINGERPRINT_TERM``) when no field is mapped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

MODULUS = 1 << 64
# DuckDB's md5_number is the digest read as a little-endian 128-bit integer: keep 64 bits.
FINGERPRINT_TERM = "CAST(md5_number({column}) & 18446744073709551615::UHUGEINT AS UBIGINT)"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def profile_text(email: str, fields: Mapping[str, object] | None) -> str:
    """The text hashed for one profile."""
    if not fields:
        return email
    return f"{email}\0{_CANONICAL.encode(fields)}"


def text_hash(text: str) -> int:
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "little")


class Fingerprint:
    """Accumulates the fingerprint from profile texts, or from a precomputed sum."""

    def __init__(self, count: int = 0, total: int = 0) -> None:
        self._count = count
        self._total = total % MODULUS

    def add(self, texts: Sequence[str]) -> None:
        self._total = (self._total + sum(map(text_hash, texts))) % MODULUS
        self._count += len(texts)

    def hexdigest(self) -> str:
        return f"{self._count:x}-{self._total:016x}"


def segment_fingerprint(
    emails: Iterable[str], properties: Mapping[str, Mapping[str, object]] | None = None
) -> str:
    """The fingerprint of a whole segment (the value ``read_segment`` reports)."""
    fields = properties or {}
    accumulator = Fingerprint()
    accumulator.add([profile_text(email, fields.get(email)) for email in emails])
    return accumulator.hexdigest()
