"""An order-independent content fingerprint of a segment: its emails and their mapped fields.

Each profile becomes a text: its email, then for every non-null mapped field, in the sorted
order of the field's key (``first_name``, ``properties.tier``, ...), ``\\0key=JSON(value)``.
The first 8 bytes of the text's MD5 digest, read as a little-endian unsigned integer, are
summed modulo 2**64 over all profiles; the fingerprint is ``{count:x}-{sum:016x}``. Reordering
rows never changes it; changing, adding or removing any email or mapped value does. (MD5 only
identifies content here; it protects nothing.) When no field is mapped the same sum is computed
inside DuckDB with ``FINGERPRINT_TERM``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from reconciler import duck

MODULUS = 1 << 64
# DuckDB's md5_number is the digest read as a little-endian 128-bit integer: keep 64 bits.
FINGERPRINT_TERM = "CAST(md5_number({column}) & 18446744073709551615::UHUGEINT AS UBIGINT)"
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def value_json(value: object) -> str:
    """Canonical JSON of a field value (fast paths for the common scalar types)."""
    kind = value.__class__
    if kind is str:
        return str(encode_basestring(cast(str, value)))
    if kind is int or kind is float:
        return repr(value)
    return _CANONICAL.encode(value)


def field_part(key: str, value: object) -> str:
    """One field's contribution to a profile text ("" for a null value)."""
    return "" if value is None else f"\0{key}={value_json(value)}"


def field_keys(record: Mapping[str, object]) -> list[tuple[str, object]]:
    """(key, value) of every field of a record, nested properties flattened, sorted by key."""
    flat = [(k, v) for k, v in record.items() if k != "properties"]
    custom = record.get("properties")
    if isinstance(custom, Mapping):
        flat.extend((f"properties.{k}", v) for k, v in custom.items())
    return sorted(flat, key=lambda item: item[0])


_NEEDS_ESCAPE = r'["\\\x00-\x1f]'  # what JSON escapes in a string (all else stays as it is)


def arrow_parts(key: str, values: pa.Array) -> pa.StringArray | None:
    """``field_part(key, v)`` of each value, computed inside Arrow for text without anything to
    escape, integers and booleans (None: another type, or text to escape: use Python)."""
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
            return None
        text = pc.binary_join_element_wise(f'\0{key}="', values.cast(pa.string()), '"', "")
    elif pa.types.is_integer(kind):
        text = pc.binary_join_element_wise(f"\0{key}=", values.cast(pa.string()), "")
    elif pa.types.is_boolean(kind):
        text = pc.if_else(values, f"\0{key}=true", f"\0{key}=false")
    elif pa.types.is_null(kind):
        text = pa.nulls(len(values), pa.string())
    else:
        return None
    parts: pa.StringArray = pc.fill_null(text, "")
    return parts


def profile_text(email: str, record: Mapping[str, object] | None) -> str:
    """The text hashed for one profile."""
    if not record:
        return email
    return email + "".join(field_part(key, value) for key, value in field_keys(record))


_PART_DIGEST = (
    "SELECT CASE WHEN part = '' THEN 0::UBIGINT ELSE "
    + FINGERPRINT_TERM.format(column="part")
    + " END AS digest FROM parts"
)
_TEXT_SUM = "SELECT CAST(SUM(" + FINGERPRINT_TERM.format(column="part") + ") AS VARCHAR) FROM parts"


class TextHasher:
    """``text_hash`` of many texts at once, inside one DuckDB connection (a few times faster
    than hashing in Python; opening a connection costs tens of milliseconds, so one serves a
    whole segment)."""

    def __init__(self) -> None:
        self._connection = duck.connect()

    def __enter__(self) -> TextHasher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._connection.close()

    def digests(self, parts: Sequence[str] | pa.StringArray) -> pa.UInt64Array:
        """A 64-bit digest of each field part (0 for a null value's empty part)."""
        if not parts:
            return pa.array([], type=pa.uint64())
        digests: pa.UInt64Array = self._query(_PART_DIGEST, parts).column(0).combine_chunks()
        return digests

    def total(self, texts: Sequence[str] | pa.StringArray | pa.ChunkedArray) -> int:
        """The sum of ``text_hash`` of each of ``texts``, modulo 2**64."""
        if not texts:
            return 0
        return int(self._query(_TEXT_SUM, texts).column(0)[0].as_py()) % MODULUS

    def _query(self, sql: str, texts: Sequence[str] | pa.StringArray | pa.ChunkedArray) -> pa.Table:
        arrow = isinstance(texts, pa.Array | pa.ChunkedArray)
        part = texts if arrow else pa.array(texts, type=pa.string())
        self._connection.register("parts", pa.table({"part": part}))
        try:
            return self._connection.sql(sql).to_arrow_table()
        finally:
            self._connection.unregister("parts")


def text_hash(text: str) -> int:
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "little")


class Fingerprint:
    """Accumulates the fingerprint from profile texts, or from a precomputed sum."""

    def __init__(self, count: int = 0, total: int = 0) -> None:
        self._count = count
        self._total = total % MODULUS

    def add(self, texts: Sequence[str]) -> None:
        self.add_sum(len(texts), sum(map(text_hash, texts)))

    def add_sum(self, count: int, total: int) -> None:
        """Add ``count`` texts whose ``text_hash`` values sum to ``total``."""
        self._total = (self._total + total) % MODULUS
        self._count += count

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
