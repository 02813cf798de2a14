"""An order-independent content fingerprint of a segment: its emails and their mapped fields.

Each profile becomes the text ``email\\0{canonical JSON of its mapped fields}`` (nothing after
the NUL when none are mapped); its 64-bit BLAKE2b digest is read as a little-endian unsigned
integer and the digests are summed modulo 2**64. The fingerprint is ``{count:x}-{sum:016x}``:
reordering rows never changes it, changing any email or mapped value does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

_MASK = (1 << 64) - 1


def profile_text(email: str, fields: Mapping[str, object] | None) -> str:
    """The text hashed for one profile."""
    if not fields:
        return f"{email}\0"
    return f"{email}\0{json.dumps(fields, sort_keys=True, separators=(',', ':'))}"


class Fingerprint:
    """Accumulates the fingerprint batch by batch (the digests are summed inside Arrow)."""

    def __init__(self) -> None:
        self._total = 0
        self._count = 0

    def add(self, texts: Sequence[str]) -> None:
        if not texts:
            return
        blake = hashlib.blake2b
        packed = b"".join([blake(t.encode(), digest_size=8).digest() for t in texts])
        digests = pa.Array.from_buffers(pa.uint64(), len(texts), [None, pa.py_buffer(packed)])
        batch_sum = pc.sum(digests).as_py()  # unchecked: wraps modulo 2**64
        self._total = (self._total + int(batch_sum)) & _MASK
        self._count += len(texts)

    def hexdigest(self) -> str:
        return f"{self._count:x}-{self._total:016x}"


def segment_fingerprint(
    emails: Iterable[str], properties: Mapping[str, Mapping[str, object]] | None = None
) -> str:
    """The fingerprint of a whole segment (same value as the streaming accumulator)."""
    fields = properties or {}
    accumulator = Fingerprint()
    accumulator.add([profile_text(email, fields.get(email)) for email in emails])
    return accumulator.hexdigest()
