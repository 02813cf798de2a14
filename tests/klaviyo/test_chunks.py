"""Bulk import bodies: email checks, chunk limits by count and encoded size, the contract."""

from __future__ import annotations

import json

import pytest

from reconciler.klaviyo import ProfileInput
from reconciler.klaviyo.chunks import body_for, prepare, split
from reconciler.klaviyo.errors import KlaviyoConfigError
from reconciler.klaviyo.facts import MAX_BODY_BYTES, MAX_PROFILES
from tests.openapi_contract import validate_request


def test_invalid_and_duplicate_emails_are_handled_before_sending() -> None:
    ready, rejected = prepare(
        [
            ProfileInput(" Jane@Example.com "),
            ProfileInput("jane@example.com"),
            ProfileInput("not-an-email"),
            ProfileInput("a@b"),
            ProfileInput("mark@example.com", {"first_name": "Mark"}, {"tier": "gold"}),
        ]
    )
    assert [p.email for p in ready] == ["jane@example.com", "mark@example.com"]
    assert [(f.email, f.reason) for f in rejected] == [
        ("not-an-email", "invalid email address"),
        ("a@b", "invalid email address"),
    ]
    body = json.loads(body_for("Y6nRLr", ready))
    validate_request("bulk_import_profiles", body)
    mark = body["data"]["attributes"]["profiles"]["data"][1]["attributes"]
    assert mark == {
        "first_name": "Mark",
        "email": "mark@example.com",
        "properties": {"tier": "gold"},
    }
    assert body["data"]["relationships"]["lists"]["data"] == [{"type": "list", "id": "Y6nRLr"}]


def test_unknown_attribute_is_a_clear_error() -> None:
    with pytest.raises(KlaviyoConfigError, match="favourite_colour"):
        prepare([ProfileInput("a@example.com", {"favourite_colour": "red"})])


def test_oversized_profile_is_rejected_alone() -> None:
    ready, rejected = prepare(
        [
            ProfileInput("big@example.com", properties={"blob": "x" * 120_000}),
            ProfileInput("ok@example.com"),
        ]
    )
    assert [p.email for p in ready] == ["ok@example.com"]
    assert rejected[0].email == "big@example.com" and "100 KB" in rejected[0].reason


def test_chunks_hold_at_most_ten_thousand_profiles() -> None:
    ready, _ = prepare([ProfileInput(f"user{i}@example.com") for i in range(25_001)])
    chunks = split("Y6nRLr", ready)
    assert [len(c) for c in chunks] == [MAX_PROFILES, MAX_PROFILES, 5_001]
    assert sum(len(c) for c in chunks) == 25_001


def test_chunks_stay_under_five_megabytes_measured_on_the_encoded_body() -> None:
    payload = {"note": "é" * 20_000}  # 2 bytes per character once encoded
    ready, rejected = prepare(
        [ProfileInput(f"user{i}@example.com", properties=payload) for i in range(300)]
    )
    assert not rejected
    chunks = split("Y6nRLr", ready)
    assert len(chunks) > 1
    for chunk in chunks:
        body = body_for("Y6nRLr", chunk)
        assert len(body) < MAX_BODY_BYTES
        validate_request("bulk_import_profiles", json.loads(body))
    assert sum(len(c) for c in chunks) == 300
    # greedy: each chunk but the last is full (one more profile would cross the limit)
    first = chunks[0]
    assert len(body_for("Y6nRLr", [*first, chunks[1][0]])) >= MAX_BODY_BYTES
