"""Fields kept current: which staying members' field digests differ from those last sent."""

from __future__ import annotations

import pyarrow as pa
import pytest

from reconciler import lookup, spill
from reconciler.plan.updates import FieldChanges, field_changes
from reconciler.spill import SpilledStrings

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


def _changes(
    desired: pa.StringArray,
    digests: dict[str, pa.Array],
    staying: list[bool],
    sent: pa.Table | None,
    *,
    clear: bool = False,
) -> tuple[list[str], dict[str, int], dict[str, list[str]]]:
    """(emails to re-send, changes per field, email -> keys sent as null)."""
    got: FieldChanges = field_changes(desired, digests, pa.array(staying), sent, clear=clear)
    emails = desired.take(got.positions)
    clears: dict[str, list[str]] = {}
    for key, mask in got.cleared.items():
        for email in emails.filter(mask).to_pylist():
            clears.setdefault(email, []).append(key)
    return sorted(emails.to_pylist()), got.per_field, clears


def test_only_staying_members_with_changed_non_null_values_are_re_sent() -> None:
    sent = _sent([[("a@x.io", 1), ("c@x.io", 3)], [("b@x.io", 9)]])
    staying = [True, True, True, True, False]  # e@ is being added
    got = _changes(pa.array(EMAILS), {"tier": _u64([1, 2, 0, 4, 5])}, staying, sent)
    # a: same; b: changed; c: now null, never sent as such; d: never sent; e: not staying
    assert got == (["b@x.io", "d@x.io"], {"tier": 2}, {})


def test_clear_sends_a_value_that_became_null() -> None:
    sent = _sent([[("a@x.io", 1), ("b@x.io", 7)], [("c@x.io", None)]])
    got = _changes(pa.array(EMAILS[:3]), {"tier": _u64([1, 0, 0])}, [True] * 3, sent, clear=True)
    assert got == (["b@x.io"], {"tier": 1}, {"b@x.io": ["tier"]})


def test_without_a_record_every_staying_member_with_a_value_is_sent() -> None:
    got = _changes(pa.array(EMAILS[:3]), {"tier": _u64([1, 0, 3])}, [True, True, False], None)
    assert got == (["a@x.io"], {"tier": 1}, {})


def test_nobody_staying_updates_nobody() -> None:
    got = _changes(pa.array(EMAILS[:2]), {"tier": _u64([1, 2])}, [False, False], None)
    assert got == ([], {}, {})


def test_a_forgotten_row_with_a_null_email_is_no_members(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lazily loaded sent table keeps replaced and forgotten rows with a null email: their
    digests are no member's, with the keyed lookup (forced here) as with the exact one."""
    monkeypatch.setattr(lookup, "SLICE", 0)
    replaced = pa.table({"email": pa.array(["a@x.io", None, None]), "tier": _u64([1, 2, 3])})
    newer = pa.table({"email": pa.array(["b@x.io"]), "tier": _u64([2])})
    sent = pa.concat_tables([replaced, newer])  # b@ was sent 2 (its old row: 3); c@ forgotten
    staying = [True, True, True, False, False]
    got = _changes(pa.array(EMAILS), {"tier": _u64([1, 2, 3, 4, 5])}, staying, sent)
    assert got == (["c@x.io"], {"tier": 1}, {})


@pytest.mark.parametrize("piece", [1_048_576, 3, 1])
@pytest.mark.parametrize("clear", [False, True])
def test_sent_read_in_pieces_gives_the_changes_of_a_whole_lookup(
    piece: int, clear: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sent table is read a piece at a time, with the keyed lookup (forced here), in
    several chunks, with forgotten rows (null emails) and a key it never recorded."""
    from reconciler.plan import updates

    monkeypatch.setattr(updates, "PIECE", piece)
    monkeypatch.setattr(lookup, "SLICE", 0)
    emails = [f"m{i}@x.io" for i in range(12)]
    tier = [0, 1, 2, 3, 4, 0, 6, 7, 8, 0, 10, 11]
    size = [5, 5, 0, 5, 5, 5, 5, 0, 5, 5, 5, 5]
    sent = pa.concat_tables(
        [
            pa.table(
                {
                    "email": pa.array(["m1@x.io", None, "m2@x.io", "m5@x.io"]),
                    "tier": _u64([1, 9, 7, 3]),
                }
            ),
            pa.table({"email": pa.array(["m9@x.io", "m3@x.io"]), "tier": _u64([None, 3])}),
            pa.table({"email": pa.array(["m11@x.io"]), "tier": _u64([4])}),
        ]
    )
    staying = [i != 4 for i in range(12)]
    got = _changes(
        pa.array(emails), {"tier": _u64(tier), "size": _u64(size)}, staying, sent, clear=clear
    )
    last = {"m1@x.io": 1, "m2@x.io": 7, "m5@x.io": 3, "m9@x.io": 0, "m3@x.io": 3, "m11@x.io": 4}
    expected: dict[str, list[str]] = {}
    for i, email in enumerate(emails):
        for key, now, before in (("tier", tier[i], last.get(email, 0)), ("size", size[i], 0)):
            if staying[i] and now != before and (clear or now != 0):
                expected.setdefault(email, []).append(key)
    counts: dict[str, int] = {}
    for keys in expected.values():
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    clears = {
        e: sorted(k for k in keys if (tier if k == "tier" else size)[emails.index(e)] == 0)
        for e, keys in expected.items()
    }
    got_emails, got_counts, got_clears = got
    assert got_emails == sorted(expected) and got_counts == counts
    assert {e: sorted(k) for e, k in got_clears.items()} == {e: k for e, k in clears.items() if k}


@pytest.mark.parametrize("clear", [False, True])
def test_spilled_digests_give_the_changes_of_digests_in_memory(
    clear: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large segment's digests are in a private file, read back a batch at a time: the
    same members are re-sent, the same keys cleared."""
    monkeypatch.setattr(spill, "BATCH", 2)
    sent = _sent([[("a@x.io", 1), ("b@x.io", 7)], [("c@x.io", None), ("e@x.io", 5)]])
    digests = _u64([1, 0, 0, 4, 6])
    staying = [True, True, True, True, True]
    held = _changes(pa.array(EMAILS), {"tier": digests}, staying, sent, clear=clear)
    spilled = {"tier": SpilledStrings(digests, typed=True)}
    assert _changes(pa.array(EMAILS), spilled, staying, sent, clear=clear) == held
    assert held[0] == (["b@x.io", "d@x.io", "e@x.io"] if clear else ["d@x.io", "e@x.io"])
