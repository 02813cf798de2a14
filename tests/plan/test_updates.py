"""Fields kept current: which staying members' field digests differ from those last sent."""

from __future__ import annotations

import pyarrow as pa

from reconciler.plan.updates import field_updates

EMAILS = ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]


def _u64(values: list[int | None]) -> pa.Array:
    return pa.array(values, pa.uint64())


def _sent(chunks: list[list[tuple[str, int | None]]]) -> pa.Table:
    """A sent table in several chunks, as the store's replayed log leaves it."""
    tables = [
        pa.table({"email": pa.array([e for e, _ in rows]), "tier": _u64([d for _, d in rows])})
        for rows in chunks
    ]
    return pa.concat_tables(tables)


def test_only_staying_members_with_changed_non_null_values_are_re_sent() -> None:
    desired = pa.array(EMAILS)
    digests = {"tier": _u64([1, 2, 0, 4, 5])}
    staying = pa.array([True, True, True, True, False])  # e@ is being added
    sent = _sent([[("a@x.io", 1), ("c@x.io", 3)], [("b@x.io", 9)]])
    got = field_updates(desired, digests, staying, sent, clear=False)
    # a: same; b: changed; c: now null, never sent as such; d: never sent; e: not staying
    assert got.emails == ["b@x.io", "d@x.io"]
    assert got.per_field == {"tier": 2}
    assert got.clears == {}


def test_clear_sends_a_value_that_became_null() -> None:
    desired = pa.array(EMAILS[:3])
    digests = {"tier": _u64([1, 0, 0])}
    staying = pa.array([True, True, True])
    sent = _sent([[("a@x.io", 1), ("b@x.io", 7)], [("c@x.io", None)]])
    got = field_updates(desired, digests, staying, sent, clear=True)
    assert got.emails == ["b@x.io"] and got.clears == {"b@x.io": ["tier"]}


def test_without_a_record_every_staying_member_with_a_value_is_sent() -> None:
    desired = pa.array(EMAILS[:3])
    got = field_updates(
        desired, {"tier": _u64([1, 0, 3])}, pa.array([True, True, False]), None, clear=False
    )
    assert got.emails == ["a@x.io"] and got.per_field == {"tier": 1}


def test_nobody_staying_updates_nobody() -> None:
    got = field_updates(
        pa.array(EMAILS[:2]), {"tier": _u64([1, 2])}, pa.array([False, False]), None, clear=False
    )
    assert got.emails == [] and got.per_field == {}
