"""One masker for every message: every address form and phone number is masked, the samples it
leaves stay distinguishable, and the secrets scan finds what the masker would have masked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.secrets import redact as config_redact
from reconciler.emails import mask_email, mask_text
from reconciler.klaviyo.errors import ErrorDetail, error_for_status
from reconciler.klaviyo.models import ImportFailure
from reconciler.state import redact as state_redact
from tests.e2e.conftest import Harness
from tests.e2e.workspace import TEST_KEY, emails
from tests.security.scan import full_addresses, journal_dump, leaks

ADDRESSES = [
    "josé@example.com",
    "jane@localhost",
    "JANE.DOE@EXAMPLE.COM",
    "Mixed.Case+Tag@Example.Org",
    "пользователь@пример.рф",
    "用户@例子.广告",
    "user@bücher.de",
    "user.name@xn--bcher-kva.de",
    "someone@example.xn--p1ai",
    '"john doe"@example.com',
    '"very.(),:;<>[]\\".unusual"@strange.example.com',
    "o'brien@example.ie",
    "first.last+filter@sub.domain.example.co.uk",
    "x@example.com",
    "ab@example.com",
    "a.very.long.local.part.of.thirty.chars@example.com",
    "user@[192.168.0.1]",
    "jo*hn.smith@example.com",
]
PHONES = [
    "+14155552671",
    "+1 415 555 2671",
    "+44 20 7946 0958",
    "+49-30-1234567",
    "(415) 555-2671",
    "415-555-2671",
    "415.555.2671",
    "020 7946 0958",
    "06 12 34 56 78",
    "0612345678",
]
NOT_PHONES = [
    "2026-12-01 09:15:32",
    "added 1,000,000, removed 25,000",
    "http://127.0.0.1:8765/api",
    "+25 add  -3 remove",
    "job 01HXYZ5550100ABC",
    "~10 calls, at least 26s",
    "version 2026-07-15",
]
MASKERS = [mask_text, config_redact, state_redact]
NO_KEY = "pk_not_in_any_text"


def _local(address: str) -> str:
    return address.rpartition("@")[0].strip('"')


@pytest.mark.parametrize("address", ADDRESSES)
def test_every_address_form_is_masked_in_text_and_alone(address: str) -> None:
    text = f"refused '{address}' (profile 3); also <{address}>, mailto:{address}."
    for mask in MASKERS:
        masked = mask(text)
        assert address not in masked, mask
        if len(_local(address)) > 2:
            assert _local(address) not in masked, mask
        assert full_addresses(masked) == [], (mask, masked)
    alone = mask_email(address)
    assert _local(address) not in alone or len(_local(address)) == 1
    assert alone.endswith("@" + address.rpartition("@")[2])


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_scan_finds_every_planted_address(address: str) -> None:
    assert leaks(f"sent to {address} today", NO_KEY) == [address]
    assert leaks(f"value '{address}' refused", NO_KEY) == [address]
    assert leaks(mask_text(f"sent to {address} today"), NO_KEY) == []


@pytest.mark.parametrize(
    "text",
    ["a.person@x.com/b.person@y.org", "jane.doe@example.com=bob.smith@example.org", "@-@zed.com"],
)
def test_addresses_inside_one_token_are_each_masked(text: str) -> None:
    assert full_addresses(text)
    assert full_addresses(mask_text(text)) == []
    assert "person@" not in mask_text(text) and "bob.smith" not in mask_text(text)


# Address syntax and delimiters, no digits (phone masking is tested apart).
TEXTS = st.text(st.sampled_from(list("ab.Zé用@'\"`()<>[]:;,\\ /=+*-_\n")), max_size=30)


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_masked_text_never_holds_an_address_the_scan_sees(text: str) -> None:
    assert full_addresses(mask_text(text)) == []


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_the_scan_is_at_least_as_wide_as_the_masker(text: str) -> None:
    if mask_text(text) != text:
        assert full_addresses(text)


def test_masking_is_stable_and_leaves_masked_text_alone() -> None:
    text = "j***@x.com, a***e@x.com, c****r@x.com, a*****z@x.com, postgresql://u:***@db/x"
    assert mask_text(text) == text
    assert mask_text(mask_text("christopher@x.com")) == "c****r@x.com"
    assert mask_text("postgresql://jane.doe@db/crm") == "postgresql://j***e@db/crm"


def test_samples_look_different_and_show_the_length_class() -> None:
    samples = [mask_email(f"user{i}@shop-example.com") for i in range(1, 6)]
    assert samples == [f"u***{i}@shop-example.com" for i in range(1, 6)]
    assert mask_email("jane@x.com") == "j***@x.com"  # up to 4: the first character only
    assert mask_email("alice@x.com") == "a***e@x.com"  # 5 to 8
    assert mask_email("christopher@x.com") == "c****r@x.com"  # 9 to 16
    assert mask_email("a.very.long.local.part@x.com") == "a*****t@x.com"  # 17 or more
    assert mask_email("nonsense") == "n*** (not an email)"


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_in_free_text_are_masked(phone: str) -> None:
    digits = "".join(ch for ch in phone if ch.isdigit())
    for mask in MASKERS:
        masked = mask(f"'{phone}' is not a valid phone number")
        assert phone not in masked
        assert "".join(ch for ch in masked if ch.isdigit()) == digits[-2:]
        assert leaks(masked, NO_KEY) == []


@pytest.mark.parametrize("text", NOT_PHONES)
def test_numbers_that_are_not_phones_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_server_texts_are_masked_where_they_become_our_values() -> None:
    reason = "'alice.private@example.org' is not an E.164 phone number such as +15005550006."
    failure = ImportFailure("alice.private@example.org", reason)
    assert (
        failure.reason == "'a****e@example.org' is not an E.164 phone number such as +*********06."
    )
    detail = ErrorDetail(status=400, title="Bad +14155552671", detail=reason, code="x@y.z")
    assert (detail.title, detail.code) == ("Bad +*********71", "x***@y.z")
    message = str(error_for_status("POST", "/api/x", 400, [detail]))
    assert leaks(message, NO_KEY) == [] and "a****e@example.org" in message


def test_the_scan_finds_an_address_planted_in_the_journal(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE reconciler_exports (run_id TEXT, error TEXT)")
        conn.execute("INSERT INTO reconciler_exports VALUES ('r1', 'refused josé@localhost')")
        conn.execute("CREATE TABLE reconciler_membership (email TEXT)")
        conn.execute("INSERT INTO reconciler_membership VALUES ('cached@example.com')")
    assert leaks(journal_dump(db), NO_KEY) == ["josé@localhost"]


def test_import_error_reasons_are_masked_in_output_and_journal(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    good = emails("good", 10)
    wrong = ["alice.private@example.org", "bob.private@example.org"]
    phones = ["(415) 555-2671", "+1 415 555 2671 ext"]
    rows = [{"email": e, "phone": "+15005550006"} for e in good]
    rows += [{"email": f"p{i}@example.com", "phone": p} for i, p in enumerate(wrong + phones)]
    ws.write_rows("vip", rows)
    ws.add_export("vip", "vip", "Y6nRLr", fields={"email": "email", "phone_number": "phone"})
    ws.write_config()

    result = harness.run("apply", "--yes", "--actor", "masking-test")
    assert result.exit_code == 1, result.output
    assert "failed 4" in result.stdout
    assert "a****e@example.org' is not an E.164 phone number" in result.stdout
    for text in (result.stdout, result.stderr, journal_dump(harness.state)):
        assert leaks(text, TEST_KEY) == []
        for value in [*wrong, "555-2671", "415 555"]:
            assert value not in text
