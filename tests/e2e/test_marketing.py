"""Issue 13 end to end, over a real socket: consent subscriptions, fields kept current.

The sandbox answers as Klaviyo does (subscription jobs lift suppressions, imports never clear a
value with a null); the reconciler must decide who may be subscribed and what to re-send.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.e2e.conftest import TIME_SCALE, Harness
from tests.e2e.workspace import TEST_KEY, Workspace, emails

CONSENTED_AT = "2026-01-15T10:00:00+00:00"


def _admin(harness: Harness, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = httpx.request(method, harness.server.base_url + path, timeout=30, **kwargs)
    body: dict[str, Any] = response.json()
    assert not response.is_error, body
    return body


def profile(harness: Harness, email: str) -> dict[str, Any]:
    return _admin(harness, "GET", "/_sandbox/profiles", params={"email": email})


def email_consent(harness: Harness, email: str) -> dict[str, Any]:
    marketing: dict[str, Any] = profile(harness, email)["subscriptions"]["email"]["marketing"]
    return marketing


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _consent_rows(people: list[str], consenting: set[str]) -> list[dict[str, object]]:
    return [
        {
            "email": e,
            "first_name": "Ann",
            "accepts_marketing": "true" if e in consenting else "false",
            "consented_at": CONSENTED_AT,
        }
        for e in people
    ]


def test_subscribe_exactly_the_consenting_rows_and_skip_a_later_unsubscribe(
    harness: Harness,
) -> None:
    people = emails("sub", 8)
    consenting = set(people[:5])
    # sub.1 has a profile elsewhere and unsubscribed after its consent of 2026-01-15
    harness.server.admin.seed("Other1", [people[1]])
    _admin(harness, "POST", "/_sandbox/profiles/unsubscribe", json={"emails": [people[1]]})
    harness.workspace.write_rows("consent", _consent_rows(people, consenting))
    harness.workspace.add_export(
        "subs",
        "consent",
        "SubL01",
        subscribe={
            "channels": ["email"],
            "consent_column": "accepts_marketing",
            "consented_at_column": "consented_at",
            "historical_import": True,
        },
    )
    harness.workspace.write_config()
    harness.server.admin.seed("SubL01", [])

    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 2
    (export,) = plan["exports"]
    assert export["subscribe"] == 4
    assert export["subscribe_skipped"] == {"unsubscribed or suppressed after consent": 1}
    assert export["subscribe_skipped_samples"]
    assert not any(p in s for p in people for s in export["subscribe_skipped_samples"])

    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "subscribed 4" in applied.output
    for email in (people[0], people[2], people[3], people[4]):
        wait_for(lambda email=email: email_consent(harness, email)["consent"] == "SUBSCRIBED")
        assert email_consent(harness, email)["consent_timestamp"].startswith("2026-01-15T10:00")
    assert email_consent(harness, people[1])["consent"] == "UNSUBSCRIBED"
    runs = json.loads(harness.run("runs", "--format", "json", "--state", str(harness.state)).stdout)
    assert runs[0]["exports"][0]["subscribed"] == 4  # the journal says what the run did
    for email in people[5:]:
        assert email_consent(harness, email)["consent"] == "NEVER_SUBSCRIBED"

    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 0, plan
    (export,) = plan["exports"]
    assert export["subscribe"] == 0
    assert export["subscribe_skipped"] == {"unsubscribed or suppressed after consent": 1}


def test_without_a_consent_time_any_unsubscribe_is_respected(harness: Harness) -> None:
    people = emails("nots", 3)
    harness.server.admin.seed("Other2", [people[0]])
    _admin(harness, "POST", "/_sandbox/profiles/unsubscribe", json={"emails": [people[0]]})
    harness.workspace.write_rows("consent2", _consent_rows(people, set(people)))
    harness.workspace.add_export(
        "subs2",
        "consent2",
        "SubL02",
        subscribe={"channels": ["email"], "consent_column": "accepts_marketing"},
    )
    harness.workspace.write_config()
    harness.server.admin.seed("SubL02", [])
    _, plan = harness.plan_json()
    (export,) = plan["exports"]
    assert export["subscribe"] == 2
    assert list(export["subscribe_skipped"].values()) == [1]
    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    wait_for(lambda: email_consent(harness, people[1])["consent"] == "SUBSCRIBED")
    assert email_consent(harness, people[0])["consent"] == "UNSUBSCRIBED"


def _ltv_rows(values: dict[str, object]) -> list[dict[str, object]]:
    return [{"email": e, "first_name": "Ann", "ltv": v} for e, v in values.items()]


def test_changed_fields_reach_klaviyo_unchanged_ones_are_not_resent_and_null_never_clears(
    harness: Harness,
) -> None:
    people = emails("ltv", 5)
    values: dict[str, object] = {e: 100 for e in people}
    harness.workspace.write_rows("ltv", _ltv_rows(values))
    harness.workspace.add_export(
        "ltv",
        "ltv",
        "LtvL01",
        fields={"email": "email", "first_name": "first_name", "properties": {"ltv": "ltv"}},
    )
    harness.workspace.write_config()
    harness.server.admin.seed("LtvL01", [])
    first = harness.run("apply", "--yes")
    assert first.exit_code == 0, first.output
    assert profile(harness, people[0])["properties"]["ltv"] == 100

    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 0 and plan["exports"][0]["update"] == 0  # nothing changed: nothing re-sent

    values[people[0]] = 250
    values[people[1]] = ""  # emptied in the source: never clears Klaviyo's value
    harness.workspace.write_rows("ltv", _ltv_rows(values))
    code, plan = harness.plan_json("--detailed-exitcode")
    (export,) = plan["exports"]
    assert code == 2
    assert export["update"] == 1 and export["updated_fields"] == {"properties.ltv": 1}
    assert export["add"] == 0 and export["remove"] == 0

    second = harness.run("apply", "--yes")
    assert second.exit_code == 0, second.output
    assert "updated 1" in second.output
    assert profile(harness, people[0])["properties"]["ltv"] == 250
    assert profile(harness, people[1])["properties"]["ltv"] == 100
    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 0 and plan["exports"][0]["update"] == 0


def test_an_add_only_export_over_an_existing_list_sends_its_fields_once(harness: Harness) -> None:
    people = emails("old", 4)
    harness.server.admin.seed("OldL01", people)  # members from before, without fields
    harness.workspace.write_rows("old", _ltv_rows({e: 7 for e in people}))
    harness.workspace.add_export(
        "old",
        "old",
        "OldL01",
        mode="add_only",
        fields={"email": "email", "properties": {"ltv": "ltv"}},
    )
    harness.workspace.write_config()
    _, plan = harness.plan_json()
    assert plan["exports"][0]["update"] == 4 and plan["exports"][0]["add"] == 0
    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert all(profile(harness, e)["properties"]["ltv"] == 7 for e in people)
    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 0, plan


def test_a_key_without_the_subscription_scope_is_told_which_scope_it_needs(
    tmp_path: Path,
) -> None:
    scopes = ("accounts:read", "lists:write", "profiles:write")
    config = SandboxConfig(
        api_keys=(TEST_KEY,), time_scale=TIME_SCALE, key_scopes=((TEST_KEY, scopes),)
    )
    with SandboxServer(config) as server:
        harness = Harness(server=server, workspace=Workspace(tmp_path), state=tmp_path / "s.db")
        people = emails("scope", 3)
        harness.workspace.write_rows("scoped", _consent_rows(people, set(people)))
        harness.workspace.add_export(
            "scoped",
            "scoped",
            "ScoL01",
            subscribe={"channels": ["email"], "consent_column": "accepts_marketing"},
        )
        harness.workspace.write_config()
        server.admin.seed("ScoL01", [])
        applied = harness.run("apply", "--yes")
    assert applied.exit_code == 1
    assert "subscriptions:write" in applied.output
    assert "failed" in applied.output


def test_a_german_number_arrives_in_e164_and_an_invalid_one_is_dropped(harness: Harness) -> None:
    people = emails("tel", 2)
    rows = [
        {"email": people[0], "first_name": "Ann", "phone": "0151 2345678"},
        {"email": people[1], "first_name": "Bob", "phone": "12"},
    ]
    harness.workspace.write_rows("tel", rows)
    harness.workspace.add_export(
        "tel",
        "tel",
        "TelL01",
        default_region="DE",
        fields={"email": "email", "first_name": "first_name", "phone_number": "phone"},
    )
    harness.workspace.write_config()
    harness.server.admin.seed("TelL01", [])
    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output  # the invalid number never fails the job
    assert profile(harness, people[0])["attributes"]["phone_number"] == "+491512345678"
    assert not profile(harness, people[1])["attributes"].get("phone_number")
    assert harness.members("TelL01") == set(people)


def test_with_null_values_clear_an_emptied_value_is_sent_once_as_null(harness: Harness) -> None:
    people = emails("clr", 3)
    values: dict[str, object] = {e: 5 for e in people}
    harness.workspace.write_rows("clr", _ltv_rows(values))
    harness.workspace.add_export(
        "clr",
        "clr",
        "ClrL01",
        null_values="clear",
        fields={"email": "email", "first_name": "first_name", "properties": {"ltv": "ltv"}},
    )
    harness.workspace.write_config()
    harness.server.admin.seed("ClrL01", [])
    assert harness.run("apply", "--yes").exit_code == 0
    values[people[2]] = ""  # emptied in the source: sent as null, then remembered as sent
    harness.workspace.write_rows("clr", _ltv_rows(values))
    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 2 and plan["exports"][0]["update"] == 1
    assert plan["exports"][0]["updated_fields"] == {"properties.ltv": 1}
    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0 and "updated 1" in applied.output, applied.output
    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 0 and plan["exports"][0]["update"] == 0, plan
