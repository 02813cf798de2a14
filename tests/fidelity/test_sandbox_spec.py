"""Sandbox fidelity: only what the spec and docs promise: filter date-times in the documented
forms, timestamps in Klaviyo's format, revisions that exist, legacy auth errors, and an email
validator of the sandbox's own."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reconciler.emails import normalise_email
from reconciler.sandbox import create_app
from reconciler.sandbox.emails import valid_email
from reconciler.sandbox.routing import ROUTES
from tests.fidelity.sandbox_support import CREATE
from tests.openapi_contract import SLICES
from tests.sandbox.helpers import (
    HEADERS,
    call,
    client_for,
    import_body,
    quiet_client,
    quiet_config,
    seed,
)

A = "Y6nRLr"
MEMBERS = "get_profiles_for_list"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$")


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        ("2026-01-01T00:00:00Z", 200),
        ("2026-01-01T00:00:00.123Z", 200),
        ("2026-01-01T00:00:00+02:00", 200),
        ("2026-01-01T00:00:00.123456Z", 400),  # microseconds are not a documented precision
        ("2026-01-01T00:00:00.123456+00:00", 400),
        ("2026-01-01t00:00:00z", 400),
    ],
)
async def test_filter_datetimes_in_the_documented_forms_only(moment: str, status: int) -> None:
    async with quiet_client() as client:
        await seed(client, A, ["ann@example.com"])
        answer = await call(
            client,
            "GET",
            f"/api/lists/{A}/profiles",
            MEMBERS,
            status,
            params={"filter": f"greater-than(joined_group_at,{moment})"},
        )
        if status == 400:
            error = answer["errors"][0]
            assert error["source"] == {"parameter": "filter"}
            assert "joined_group_at" in error["detail"] or "ISO 8601" in error["detail"]


def _stamps(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _stamps(value) if key != "links"]
    if isinstance(node, list):
        return [s for item in node for s in _stamps(item)]
    if isinstance(node, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", node):
        return [node]
    return []


async def test_timestamps_are_in_klaviyos_format() -> None:
    async with quiet_client() as client:
        await seed(client, A, ["ann@example.com"])
        page = await call(client, "GET", f"/api/lists/{A}/profiles", MEMBERS, 200)
        listed = await call(client, "GET", f"/api/lists/{A}", "get_list", 200)
        job = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(["bob@example.com"], A),
        )
    stamps = _stamps(page) + _stamps(listed) + _stamps(job)
    assert len(stamps) >= 6
    assert all(STAMP.match(stamp) for stamp in stamps), stamps


async def test_legacy_auth_errors_answer_400() -> None:
    for mode, status in (("legacy", 400), ("current", 401)):
        async with client_for(create_app(quiet_config(auth_errors=mode))) as client:
            for header in ("", "Bearer x", "Klaviyo-API-Key "):
                answer = await call(
                    client,
                    "GET",
                    "/api/accounts",
                    "get_accounts",
                    status,
                    headers={"Authorization": header},
                )
                assert answer["errors"][0]["status"] == status
            # a well-formed but unknown key stays a 403 either way
            await call(
                client,
                "GET",
                "/api/accounts",
                "get_accounts",
                403,
                headers={"Authorization": "Klaviyo-API-Key nope"},
            )


@pytest.mark.parametrize(
    ("revision", "status"),
    [
        ("2026-07-15", 200),
        ("2026-10-15", 200),  # published after the slices (the official SDK v25 sends it)
        ("2024-10-15.pre", 200),
        ("2026-07-16", 400),  # no such revision
        ("2026-13-15", 400),
        ("2027-01-15", 400),  # not published yet
        ("latest", 400),
    ],
)
async def test_unknown_revisions_are_refused(revision: str, status: int) -> None:
    async with quiet_client() as client:
        answer = await call(
            client,
            "GET",
            "/api/accounts",
            "get_accounts",
            status,
            headers={**HEADERS, "revision": revision},
        )
        if status == 400:
            assert answer["errors"][0]["source"] == {"parameter": "revision"}


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.test",  # a special-use domain (RFC 6761): the library refuses it
        "ann..lee@example.com",
        "ann@localhost",
    ],
)
async def test_the_sandbox_judges_emails_on_its_own(address: str) -> None:
    assert valid_email(address) is None
    async with quiet_client() as client:
        await seed(client, A, [])
        error = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            400,
            body=import_body(["ok@example.com", address], A),
        )
        assert error["errors"][0]["source"]["pointer"].endswith("/1/attributes/email")


def test_the_client_and_the_sandbox_can_disagree() -> None:
    """The point of an independent validator: a test can show the client sending what the
    server refuses (or refusing what the server takes)."""
    disagreements = [
        address
        for address in (
            "ann@example.test",
            "ünïcode@example.de",
            "\u212aelvin@example.com",  # Kelvin sign: lower-cases to a plain k
            "\u0130stanbul@example.com",
        )
        if (normalise_email(address) is None) != (valid_email(address) is None)
    ]
    assert disagreements


def test_the_sandbox_judges_with_code_of_its_own() -> None:
    """The point of an independent validator: the sandbox never imports the client's code
    (reconciler.emails, reconciler.klaviyo) to judge what the client sends. (Both now use the
    email-validator library with deliverability checks off, so today they agree on every
    address the tests use; they are still two configurations that can drift apart.)"""
    import ast
    from pathlib import Path

    import reconciler.sandbox

    package = Path(reconciler.sandbox.__file__).parent
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    borrowed = {m for m in imported if m.startswith(("reconciler.emails", "reconciler.klaviyo"))}
    assert borrowed == set()
    assert valid_email("ann@example.test") is None  # special-use domains: refused by the sandbox


def test_route_scopes_match_the_slices() -> None:
    for route in ROUTES:
        document = json.loads((SLICES / f"{route.operation}.json").read_text())
        operation = document["paths"][route.template][route.method.lower()]
        assert list(route.scopes) == operation["x-klaviyo-scopes"], route.endpoint


async def test_member_pages_carry_subscriptions_when_asked() -> None:
    async with quiet_client() as client:
        await seed(client, A, ["ann@example.com"])
        await client.post("/_sandbox/profiles/unsubscribe", json={"emails": ["ann@example.com"]})
        page = await call(
            client,
            "GET",
            f"/api/lists/{A}/profiles",
            MEMBERS,
            200,
            params={"additional-fields[profile]": "subscriptions"},
        )
        marketing = page["data"][0]["attributes"]["subscriptions"]["email"]["marketing"]
        assert marketing["consent"] == "UNSUBSCRIBED"
        plain = await call(client, "GET", f"/api/lists/{A}/profiles", MEMBERS, 200)
        assert "subscriptions" not in plain["data"][0]["attributes"]


async def test_a_quoted_filter_datetime_is_invalid() -> None:
    """community.klaviyo.com, thread 14473 (a Klaviyo employee): "Datetimes should be
    specified without quotes"."""
    async with quiet_client() as client:
        await seed(client, A, ["ann@example.com"])
        answer = await call(
            client,
            "GET",
            f"/api/lists/{A}/profiles",
            MEMBERS,
            400,
            params={"filter": 'greater-than(joined_group_at,"2026-01-01T00:00:00Z")'},
        )
        assert answer["errors"][0]["source"] == {"parameter": "filter"}
        assert "unquoted" in answer["errors"][0]["detail"]
