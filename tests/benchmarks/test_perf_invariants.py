"""Fast checks that the performance rewrites keep their contracts (not benchmarks)."""

from __future__ import annotations

import tracemalloc

from reconciler.klaviyo.chunks import iter_split, prepare, prepared, split
from reconciler.klaviyo.jsonapi import encode
from reconciler.klaviyo.models import ImportFailure, ProfileInput
from reconciler.plan.digest import mapping_digest
from tests.benchmarks.minimums import apply_minimum, import_seconds, read_minimum


def test_mapping_digest_ignores_order_and_sees_every_pair() -> None:
    pairs = {f"u{i}@example.com": f"P{i}" for i in range(1000)}
    reordered = dict(reversed(list(pairs.items())))
    assert mapping_digest(pairs) == mapping_digest(reordered)
    changed = {**pairs, "u5@example.com": "P6"}
    assert mapping_digest(changed) != mapping_digest(pairs)
    assert mapping_digest({}) != mapping_digest({"a@b.co": ""})


def test_lazy_prepare_and_split_match_the_eager_ones() -> None:
    profiles = [ProfileInput(f"User{i % 2500}@Example.com") for i in range(3000)]
    profiles.append(ProfileInput("not an email"))
    ready, rejected = prepare(profiles)
    lazy_rejected: list[ImportFailure] = []
    lazy = list(iter_split("Y6nRLr", prepared(profiles, lazy_rejected), max_profiles=700))
    assert lazy == split("Y6nRLr", ready, max_profiles=700)
    assert [len(c) for c in lazy] == [700, 700, 700, 400]
    assert lazy_rejected == rejected and len(rejected) == 1


def test_minimums_follow_the_published_limits() -> None:
    # 1M profiles: 100 jobs, processed at 10,000/s after a 0.5 s queue delay
    assert import_seconds(1_000_000, 10_000.0) == 100.5
    # 100,000 members: 1,000 pages + 1 call, 750 per minute at 75 per second
    assert read_minimum(100_000, 1.0) == 63.0
    assert read_minimum(100_000, 10.0) == 6.3
    # 10,000 removals are 10 calls inside one second; the import of 10,000 takes longer
    assert apply_minimum(10_000, 10_000, 10_000.0, 1.0) == 1.5


def test_encoded_profiles_hold_only_their_bytes() -> None:
    # orjson's output keeps its 4 KB write buffer; two slices of 100,000 profiles in flight
    # would hold 800 MB. encode() returns exact-sized bytes.
    profile = {"type": "profile", "attributes": {"email": "ann@example.com", "first_name": "A"}}
    tracemalloc.start()
    try:
        encoded = [encode(profile) for _ in range(2_000)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(encoded[0]) < 100
    assert held < 2_000 * 400
