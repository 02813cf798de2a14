"""The segment fingerprint: order-independent, sensitive to every email and mapped value."""

from __future__ import annotations

import hashlib
import random

from reconciler.sources.fingerprint import Fingerprint, profile_text, segment_fingerprint

EMAILS = [f"user{i}@example.com" for i in range(2_000)]


def _reference(texts: list[str]) -> str:
    total = sum(int.from_bytes(hashlib.md5(t.encode()).digest()[:8], "little") for t in texts)
    return f"{len(texts):x}-{total % (1 << 64):016x}"


def test_matches_the_documented_formula() -> None:
    assert segment_fingerprint(EMAILS) == _reference(EMAILS)
    props = {EMAILS[0]: {"first_name": "Jane"}}
    texts = [EMAILS[0] + '\0first_name="Jane"', *EMAILS[1:]]
    assert segment_fingerprint(EMAILS, props) == _reference(texts)
    assert segment_fingerprint(EMAILS).startswith("7d0-")


def test_order_independent_and_batching_independent() -> None:
    shuffled = EMAILS[:]
    random.Random(7).shuffle(shuffled)
    batched = Fingerprint()
    for start in range(0, len(shuffled), 300):
        batched.add([profile_text(e, None) for e in shuffled[start : start + 300]])
    assert batched.hexdigest() == segment_fingerprint(EMAILS)


def test_changes_when_an_email_or_value_changes() -> None:
    base = segment_fingerprint(EMAILS)
    changed = [*EMAILS[:-1], "someone.else@example.com"]
    assert segment_fingerprint(changed) != base
    assert segment_fingerprint(EMAILS[:-1]) != base
    props = {EMAILS[0]: {"first_name": "Jane"}}
    with_props = segment_fingerprint(EMAILS, props)
    assert with_props != base
    assert segment_fingerprint(EMAILS, {EMAILS[0]: {"first_name": "Joan"}}) != with_props
    assert segment_fingerprint(reversed(EMAILS), props) == with_props


def test_profile_text_is_canonical() -> None:
    a = profile_text("a@b.co", {"x": 1, "properties": {"b": 2, "a": 1}})
    b = profile_text("a@b.co", {"properties": {"a": 1, "b": 2}, "x": 1})
    assert a == b
    assert profile_text("a@b.co", {}) == "a@b.co"
    assert profile_text("a@b.co", {"x": None}) == "a@b.co"
    record = {"title": "Dr", "properties": {"ltv": 1.5, "tags": ["a", "é"], "n": 2}}
    assert profile_text("a@b.co", record) == (
        'a@b.co\0properties.ltv=1.5\0properties.n=2\0properties.tags=["a","é"]\0title="Dr"'
    )


def test_duckdb_hashes_equal_python_hashes() -> None:
    from reconciler.sources.fingerprint import MODULUS, TextHasher, field_part, text_hash

    parts = [field_part("first_name", v) for v in ["Zoë", None, "a\0b", 7, 2.5, "漢字"]]
    texts = [f"{e}{p}" for e, p in zip(EMAILS, parts, strict=False)]
    with TextHasher() as hasher:
        assert hasher.digests(parts).to_pylist() == [text_hash(p) if p else 0 for p in parts]
        assert hasher.total(texts) == sum(map(text_hash, texts)) % MODULUS
        assert hasher.total([]) == 0 and hasher.digests([]).to_pylist() == []


def test_arrow_parts_equal_python_parts() -> None:
    import pyarrow as pa

    from reconciler.sources.fingerprint import arrow_parts, field_part

    columns = [
        pa.array(["Zoë", None, "", "O'Brien", "漢字 / x"]),
        pa.array([0, -5, None, 2**62, 7], pa.int64()),
        pa.array([True, None, False, True, False]),
        pa.nulls(5),
    ]
    for values in columns:
        parts = arrow_parts("properties.k", values)
        assert parts is not None, values.type
        assert parts.to_pylist() == [field_part("properties.k", v) for v in values.to_pylist()]
    # text JSON would escape, and floats (Python's repr), are left to Python
    assert arrow_parts("k", pa.array(['say "hi"', "ok"])) is None
    assert arrow_parts("k", pa.array(["tab\there"])) is None
    assert arrow_parts("k", pa.array([1.5])) is None
