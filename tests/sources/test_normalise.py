"""Vectorised normalisation agrees with normalise_email; masking hides addresses."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import emails as emails_module
from reconciler.emails import mask_email, mask_emails_in, normalise_email
from reconciler.sources.normalise import as_string_array, normalise_array
from reconciler.sources.values import json_value

CASES = [
    "jane@example.com",
    "  Jane.Doe@Example.COM ",
    "\tjohn+tag@sub.example.co.uk\n",
    "",
    "   ",
    "no-at-sign.example.com",
    "two@@example.com",
    "a@b@example.com",
    "jane doe@example.com",
    "jane@exa mple.com",
    "jane@example",
    "jane@example.c",
    "jane@example.c0m",
    "jane@-example.com",
    "jane@example-.com",
    "jane@.example.com",
    "jane@example..com",
    ".jane@example.com",
    "jane.@example.com",
    "ja..ne@example.com",
    "x" * 64 + "@example.com",
    "x" * 65 + "@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a@" + ".".join(["abcdefgh"] * 30) + ".com",
    "josé@example.com",
    "jane@exämple.com",
    "\u212aim@example.com",  # Kelvin sign lower-cases to ASCII "k" in Python
    "user@example.xn--p1ai",
    "User@Пример.РФ",
    "user@xn--e1afmkfd.xn--p1ai",
    "user@xn--zz.com",  # not a valid A-label
    "user@ab--cd.com",  # reserved 3rd/4th-place hyphens
    "jane@example.test",
    "jane@printer.local",
    "\u212bsa@example.se",  # Angstrom sign
    "\u00c5sa@example.se",
    "\u0130nci@example.com",  # dotted capital I
    "\u00a0jane@example.com\u3000",
    "o'brien@example.ie",
    "{weird}|chars~@example.org",
    "jane@example.com\x00",
    "ab\n@example.com",  # a newline inside is not the end of the local part
    "ab@exam\nple.com",
]


def test_cases_agree_with_normalise_email() -> None:
    got = normalise_array(pa.array([*CASES, None])).to_pylist()
    assert got == [normalise_email(c) for c in CASES] + [None]
    assert got[1] == "jane.doe@example.com"
    assert got[27] is None  # never merged into the real kim@example.com (17.3)
    assert got[28:31] == ["user@example.xn--p1ai", "user@пример.рф", "user@xn--e1afmkfd.xn--p1ai"]
    assert got[31:36] == [None] * 5
    assert got[36:38] == ["åsa@example.se", None]
    assert got.count(None) > 15


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.from_regex(r"\s?[A-Za-z0-9._%+-]{0,12}@[A-Za-z0-9.-]{0,12}\.[A-Za-z]{0,4}\s?"),
            st.none(),
        ),
        max_size=20,
    )
)
def test_any_text_agrees_with_normalise_email(values: list[str | None]) -> None:
    assert normalise_array(pa.array(values, type=pa.string())).to_pylist() == [
        normalise_email(v) for v in values
    ]


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"[a-z0-9._%+!#-]{0,70}@[a-z0-9.-]{0,70}\.[a-z0-9-]{0,5}", fullmatch=True),
        st.from_regex(
            r"[a-z0-9]{1,5}@(?:[a-z0-9-]{1,6}\.){1,3}(?:test|local|xn--p1ai|com)", fullmatch=True
        ),
    )
)
def test_the_fast_path_accepts_nothing_the_full_check_refuses(value: str) -> None:
    email = value.strip().lower()
    if emails_module._PLAIN.fullmatch(email) and len(email) <= emails_module.MAX_EMAIL_LENGTH:
        assert emails_module.is_valid_email(email)


def test_arrow_and_python_trim_the_same_whitespace() -> None:
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    trimmed = pc.utf8_trim_whitespace(pa.array([chr(c) + "a" for c in points])).to_pylist()
    arrow = {c for c, t in zip(points, trimmed, strict=True) if t == "a"}
    python = {c for c in points if chr(c).isspace()}
    assert arrow == python


def test_a_million_clean_emails_normalise() -> None:
    # how fast is measured by the benchmarks (tests/benchmarks), never by a timed unit test
    values = pa.array([f"User{i}@Example{i % 97}.com" for i in range(1_000_000)])
    got = normalise_array(values)
    assert got.null_count == 0 and got[10].as_py() == "user10@example10.com"


def test_non_string_columns_become_text() -> None:
    assert as_string_array(pa.array([1, None, 3])).to_pylist() == ["1", None, "3"]
    assert as_string_array(pa.array(["a@b.co"], type=pa.large_string())).type == pa.string()
    chunked = pa.chunked_array([["a@b.co"], ["c@d.co"]])
    assert as_string_array(chunked).to_pylist() == ["a@b.co", "c@d.co"]


def test_masking() -> None:
    assert mask_email("jane@example.com") == "j***@example.com"
    assert mask_email("") == "(empty)"
    assert mask_email(None) == "(empty)"
    assert mask_email("nonsense") == "n*** (not an email)"
    text = 'Original Line: jane@example.com,"Smith" (bob.x@y.org)'
    masked = mask_emails_in(text)
    assert "jane@" not in masked and "bob.x@" not in masked
    assert "j***@example.com" in masked and "b***x@y.org" in masked


def test_json_values() -> None:
    values = [
        dt.date(2026, 1, 2),
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        Decimal("12.50"),
        float("nan"),
        uuid.UUID(int=1),
        b"caf\xc3\xa9",
        b"\xff\x00",
        {"a": [dt.time(1, 2)]},
        dt.timedelta(minutes=2),
        (1, 2),
    ]
    got = [json_value(v) for v in values]
    assert got == [
        "2026-01-02",
        "2026-01-02T03:04:05+00:00",
        12.5,
        None,
        "00000000-0000-0000-0000-000000000001",
        "café",
        "ff00",
        {"a": ["01:02:00"]},
        120.0,
        [1, 2],
    ]
    json.dumps(got)
