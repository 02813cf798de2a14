"""The membership cache read as Arrow columns agrees with the dict form, on both backends."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

from reconciler.errors import StateError
from reconciler.state import SqlStateBackend, cache
from reconciler.state.columnar import add_rows, lines_array, remove_ids

from .conftest import RawExecute
from .test_state_cache import BASE, members


def as_pairs(backend: SqlStateBackend, list_id: str) -> dict[str, str] | None:
    columns = backend.cache.load_columns("acct", list_id)
    if columns is None:
        return None
    emails, ids = columns.emails.to_pylist(), columns.profile_ids.to_pylist()
    assert len(set(emails)) == len(emails) == columns.count
    return dict(zip(emails, ids, strict=True))


def dict_pairs(backend: SqlStateBackend, list_id: str) -> dict[str, str]:
    cached = backend.cache.load("acct", list_id)
    assert cached is not None
    return {email: pid for email, (pid, _) in cached.members.items()}


def test_columns_match_the_dict_after_updates(backend: SqlStateBackend) -> None:
    rows = members(20_000)
    rows.append(("", "EMPTY-EMAIL", BASE))  # an empty value is still one line
    rows.append(("josé@exämple.com", "UNICODE", BASE))
    backend.cache.save("acct", "L1", rows)
    rng = random.Random(3)
    for round_ in range(4):  # alternating remove and add batches in the change log
        gone = [*rng.sample([pid for _, pid, _ in rows], 50), "no-such-id"]
        new = members(30, start=100_000 + round_ * 100)
        new.append((rows[round_][0], f"MOVED{round_}", BASE + dt.timedelta(days=9)))
        new.append((new[0][0], f"TWICE{round_}", BASE + dt.timedelta(days=9)))  # later wins
        backend.cache.update("acct", "L1", added=new, removed_profile_ids=gone)
    columns = backend.cache.load_columns("acct", "L1")
    cached = backend.cache.load("acct", "L1")
    assert columns is not None and cached is not None
    assert as_pairs(backend, "L1") == dict_pairs(backend, "L1")
    assert (columns.count, columns.as_of) == (cached.count, cached.as_of)
    assert columns.saved_at == cached.saved_at and columns.saved_at is not None
    assert as_pairs(backend, "L1") != {e: p for e, p, _ in rows}  # the updates did apply


def test_empty_missing_and_damaged(backend: SqlStateBackend, raw: RawExecute) -> None:
    assert backend.cache.load_columns("acct", "NONE") is None
    backend.cache.save("acct", "EMPTY", [])
    empty = backend.cache.load_columns("acct", "EMPTY")
    assert empty is not None and empty.count == 0 and empty.as_of is None
    backend.cache.save("acct", "L1", members(10))
    raw(
        "UPDATE reconciler_membership_snapshots SET snapshot = substr(snapshot, 1, 20) "
        "WHERE list_id='L1'"
    )
    assert backend.cache.load_columns("acct", "L1") is None
    assert raw("SELECT COUNT(*) FROM reconciler_membership WHERE list_id = 'L1'")[0][0] == 0


def test_with_added_overrides_and_appends() -> None:
    emails = pa.array(["a@x.co", "b@x.co"], type=pa.string())
    ids = pa.array(["A", "B"], type=pa.string())
    new_emails, new_ids = add_rows(emails, ids, [("b@x.co", "B2"), ("c@x.co", "C")])
    assert dict(zip(new_emails.to_pylist(), new_ids.to_pylist(), strict=True)) == {
        "a@x.co": "A",
        "b@x.co": "B2",
        "c@x.co": "C",
    }
    kept_emails, kept_ids = remove_ids(new_emails, new_ids, ["A", "nope"])
    assert (kept_emails.to_pylist(), kept_ids.to_pylist()) == (["b@x.co", "c@x.co"], ["B2", "C"])


def test_lines_array_checks_its_input() -> None:
    assert lines_array(b"a\n\nb", 3).to_pylist() == ["a", "", "b"]
    assert lines_array(b"", 1).to_pylist() == [""]
    with pytest.raises(StateError, match="column lengths differ"):
        lines_array(b"a\nb", 3)
    with pytest.raises(StateError, match="not UTF-8"):
        lines_array(b"a\n\xff", 2)


def test_columns_read_in_small_pieces(
    backend: SqlStateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = members(300)
    rows.append(("josé@exämple.com", "UNICODE", BASE))  # multi-byte text across piece bounds
    backend.cache.save("acct", "L1", rows)
    expected = {e: p for e, p, _ in rows}
    for piece in (1, 7, 64, 4096):
        monkeypatch.setattr(cache, "PIECE", piece)
        assert as_pairs(backend, "L1") == expected
