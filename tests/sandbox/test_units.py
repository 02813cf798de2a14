"""The sandbox's building blocks: filter parser, id codec, member list, clock, email fast path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.sandbox import emails as emails_module
from reconciler.sandbox.clock import VirtualClock, iso_from_us, us_from_datetime, whole_seconds
from reconciler.sandbox.filters import Condition, Unquoted, as_datetime, parse_filter
from reconciler.sandbox.ids import ProfileIdCodec, new_list_id
from reconciler.sandbox.jsonapi import ApiError, decode_cursor, encode_cursor
from reconciler.sandbox.members import MemberList, MemberQuery

ALLOWED = {
    "email": frozenset({"equals", "any"}),
    "joined_group_at": frozenset({"greater-than", "less-than"}),
}


def test_filter_forms() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_filter('equals(email,"a@b.com")', ALLOWED) == [
        Condition("equals", "email", "a@b.com")
    ]
    assert parse_filter("any(email,['a@b.com', \"c@d.com\"])", ALLOWED) == [
        Condition("any", "email", ["a@b.com", "c@d.com"])
    ]
    both = (
        "and(greater-than(joined_group_at,2026-01-01T00:00:00Z),"
        "less-than(joined_group_at,2027-01-01))"
    )
    parsed = parse_filter(both, ALLOWED)
    assert parsed[0] == Condition("greater-than", "joined_group_at", "2026-01-01T00:00:00Z")
    assert as_datetime(parsed[0].value, "joined_group_at") == moment
    assert parse_filter(both[4:-1], ALLOWED)[0] == parsed[0]


@pytest.mark.parametrize(
    "text",
    [
        "2018-12-27",
        "2018-12-27T12:30:00",
        "2018-12-27T12:30:00Z",
        "2018-12-27T12:30:00.710",
        "2018-12-27T12:30:00.710Z",
        "2018-12-27T12:30:00+03:00",
        "2023-08-15 12:30:00Z",
    ],
)
def test_filter_datetimes_in_the_documented_forms(text: str) -> None:
    """developers.klaviyo.com: "Acceptable date and timestamp formats" and "Datetimes"."""
    assert as_datetime(Unquoted(text), "joined_group_at").year in (2018, 2023)
    with pytest.raises(ApiError, match="unquoted"):  # quoted, a date-time is an invalid filter
        as_datetime(text, "joined_group_at")


@pytest.mark.parametrize(
    "text",
    [
        "2018-12-27T12:30:00.710123Z",  # microseconds: not a documented precision
        "2018-12-27T12:30:00.7Z",
        "2018-12-27t12:30:00z",  # "the letters ... must always be uppercase"
        "2018-12-27T12:30",
        "20181227T123000Z",
    ],
)
def test_other_filter_datetimes_are_a_400_naming_the_parameter(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        as_datetime(Unquoted(text), "joined_group_at")
    error = caught.value.errors[0]
    assert caught.value.status == 400 and error["source"] == {"parameter": "filter"}
    assert "joined_group_at" in error["detail"]
    assert as_datetime(text.upper(), "joined_group_at", documented=False).year == 2018


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ('equals(phone,"1")', "not supported"),
        ('greater-than(email,"x")', "not allowed"),
        ("equals(email,bare)", "must be quoted"),
        ('equals(email,"open', "unterminated"),
        ('equals(email,"a")x', "unexpected"),
        ('or(equals(email,"a"),equals(email,"b"))', "not supported"),
    ],
)
def test_filter_errors_name_the_parameter(text: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_filter(text, ALLOWED)
    error = caught.value.errors[0]
    assert caught.value.status == 400 and error["source"] == {"parameter": "filter"}
    assert message in error["detail"]


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=2**48 - 1))
def test_profile_ids_round_trip(index: int, created_ms: int) -> None:
    codec = ProfileIdCodec(salt=12345)
    profile_id = codec.encode(index, created_ms)
    assert len(profile_id) == 26 and profile_id.isalnum() and profile_id.isupper()
    assert codec.decode(profile_id) == (index, created_ms)


def test_malformed_ids_and_list_ids() -> None:
    codec = ProfileIdCodec()
    assert codec.decode("short") is None and codec.decode("U" * 26) is None
    list_id = new_list_id()
    assert len(list_id) == 6 and list_id.isalnum()


def test_cursor_round_trip_and_full_url() -> None:
    cursor = encode_cursor(1234)
    assert decode_cursor(cursor) == 1234
    assert (
        decode_cursor(f"http://x/api/lists/A/profiles?page%5Bcursor%5D={cursor}&page%5Bsize%5D=1")
        == 1234
    )
    with pytest.raises(ApiError):
        decode_cursor("!!!")


def test_member_list_order_removal_and_compaction() -> None:
    members = MemberList("Y6nRLr", "x", 0, 0)
    assert members.add(range(120_000), now_us=10) == 120_000
    assert members.add([5, 120_000], now_us=20) == 1
    assert members.joined_at(5) == 10 and members.joined_at(120_000) == 20
    page, cursor = members.page(MemberQuery(), None, 3)
    assert page == [0, 1, 2] and cursor is not None
    assert members.remove(range(100_000), now_us=30) == 100_000
    assert len(members.members) == members.count == 20_001  # compacted: tombstones dropped
    page, _ = members.page(MemberQuery(), cursor, 2)
    assert page == [100_000, 100_001]
    newest, _ = members.page(MemberQuery(descending=True), None, 2)
    assert newest == [120_000, 119_999]
    late, _ = members.page(MemberQuery(joined_min=11), None, 10)
    assert late == [120_000]
    chosen, _ = members.page(MemberQuery(profiles=frozenset({3, 100_005, 119_000})), None, 10)
    assert chosen == [100_005, 119_000]


def test_clock_and_time_formats() -> None:
    clock = VirtualClock(60)
    assert clock.real_seconds(60) == 1
    assert whole_seconds(0.01) == 1 and whole_seconds(2.0) == 2 and whole_seconds(2.1) == 3
    micros = us_from_datetime(datetime(2026, 7, 15, 12, 0, 0, 123456, tzinfo=UTC))
    assert iso_from_us(micros) == "2026-07-15T12:00:00.123456+00:00"


_ATOM = st.text("abcxyz0189", min_size=1, max_size=70)
_LOCAL = st.lists(st.tuples(st.sampled_from("._+-"), _ATOM), max_size=3).map(
    lambda parts: "".join(sep + atom for sep, atom in parts)
)
_LABEL = st.lists(_ATOM, min_size=1, max_size=3).map("-".join)
_TLD = st.sampled_from(["com", "de", "io", "test", "localhost", "invalid", "onion", "x" * 64])


@st.composite
def _plain_addresses(draw: st.DrawFn) -> str:
    local = draw(_ATOM) + draw(_LOCAL)
    labels = draw(st.lists(_LABEL, min_size=1, max_size=3))
    return f"{local}@{'.'.join([*labels, draw(_TLD)])}"


@settings(max_examples=200, deadline=None)
@given(_plain_addresses())
def test_the_email_fast_path_accepts_only_what_email_validator_accepts(address: str) -> None:
    """The sandbox judges plain addresses without the library; it must never take one the
    library refuses (the library is the judge, the fast path only saves time)."""
    fast = emails_module.valid_email(address)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        assert fast is None, address
    else:
        assert fast == address.lower()
