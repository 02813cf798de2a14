"""Sandbox fidelity: ``POST /api/profile-subscription-bulk-create-jobs`` as slice
``bulk_subscribe_profiles`` documents it, and subscription state read back through the API
the client uses (``get_profiles`` with ``additional-fields[profile]=subscriptions``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from reconciler.sandbox import create_app
from tests.fidelity.sandbox_support import (
    SUBSCRIBE,
    admin,
    profile,
    subscribe_body,
    subscriptions_done,
)
from tests.sandbox.helpers import KEY, OTHER_KEY, call, client_for, members, quiet_config, seed

A = "Y6nRLr"
URL = "/api/profile-subscription-bulk-create-jobs"
ANN, BOB = "ann@example.com", "bob@example.com"


async def subscribe(client: httpx.AsyncClient, body: dict[str, Any], status: int = 202) -> Any:
    answer = await call(client, "POST", URL, SUBSCRIBE, status, body=body)
    await subscriptions_done(client)
    return answer


async def read_subscriptions(client: httpx.AsyncClient, *emails: str) -> dict[str, Any]:
    quoted = ",".join(f'"{email}"' for email in emails)
    page = await call(
        client,
        "GET",
        "/api/profiles",
        "get_profiles",
        200,
        params={
            "filter": f"any(email,[{quoted}])",
            "additional-fields[profile]": "subscriptions",
        },
    )
    return {p["attributes"]["email"]: p["attributes"]["subscriptions"] for p in page["data"]}


async def test_subscribing_grants_consent_and_adds_to_the_list() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [])
        await subscribe(client, subscribe_body([ANN, BOB], A))
        assert await members(client, A) == {ANN, BOB}
        found = await read_subscriptions(client, ANN, BOB)
        for email in (ANN, BOB):
            marketing = found[email]["email"]["marketing"]
            assert marketing["consent"] == "SUBSCRIBED"
            assert marketing["can_receive_email_marketing"] is True
            assert datetime.fromisoformat(marketing["consent_timestamp"]) <= datetime.now(UTC)
        assert (await profile(client, ANN))["subscriptions"] == found[ANN]


async def test_a_job_takes_at_most_1000_profiles() -> None:
    async with client_for(create_app(quiet_config())) as client:
        body = subscribe_body([f"p{n}@example.com" for n in range(1001)])
        error = await call(client, "POST", URL, SUBSCRIBE, 400, body=body)
        assert error["errors"][0]["source"]["pointer"] == "/data/attributes/profiles/data"
        await subscribe(client, subscribe_body([f"p{n}@example.com" for n in range(1000)]))


async def test_historical_import_needs_consented_at_in_the_past() -> None:
    past = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    future = datetime.now(UTC) + timedelta(days=1)
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [])
        pointer = "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing"
        for body in (
            subscribe_body([ANN], A, historical=True),
            subscribe_body([ANN], A, historical=True, consented_at=future.isoformat()),
            subscribe_body([ANN], A, consented_at=past.isoformat()),  # not without the flag
        ):
            error = await call(client, "POST", URL, SUBSCRIBE, 400, body=body)
            assert error["errors"][0]["source"]["pointer"] == f"{pointer}/consented_at"
        await subscribe(
            client, subscribe_body([ANN], A, historical=True, consented_at=past.isoformat())
        )
        marketing = (await read_subscriptions(client, ANN))[ANN]["email"]["marketing"]
        assert datetime.fromisoformat(marketing["consent_timestamp"]) == past


async def test_subscribing_lifts_unsubscribe_spam_and_user_suppressions_only() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN, BOB])
        await admin(client, "/_sandbox/profiles/unsubscribe", {"emails": [ANN]})
        await admin(
            client, "/_sandbox/profiles/unsubscribe", {"emails": [BOB], "reason": "HARD_BOUNCE"}
        )
        await subscribe(client, subscribe_body([ANN, BOB]))
        found = await read_subscriptions(client, ANN, BOB)
        assert found[ANN]["email"]["marketing"]["suppression"] == []
        assert found[ANN]["email"]["marketing"]["consent"] == "SUBSCRIBED"
        bounced = found[BOB]["email"]["marketing"]["suppression"]
        assert [s["reason"] for s in bounced] == ["HARD_BOUNCE"]


async def test_double_opt_in_leaves_profiles_pending_until_they_confirm() -> None:
    async with client_for(create_app(quiet_config(double_opt_in=(A,)))) as client:
        await seed(client, A, [])
        await subscribe(client, subscribe_body([ANN], A))
        assert await members(client, A) == set()
        ann = await profile(client, ANN)
        assert ann["pending_double_opt_in"] == [A]
        assert ann["subscriptions"]["email"]["marketing"]["consent"] == "NEVER_SUBSCRIBED"
        listed = await call(client, "GET", f"/api/lists/{A}", "get_list", 200)
        assert listed["data"]["attributes"]["opt_in_process"] == "single_opt_in"  # as seeded
        await admin(client, "/_sandbox/profiles/confirm", {"emails": [ANN], "list_id": A})
        assert await members(client, A) == {ANN}
        marketing = (await profile(client, ANN))["subscriptions"]["email"]["marketing"]
        assert marketing["consent"] == "SUBSCRIBED" and marketing["double_optin"] is True


async def test_historical_import_skips_double_opt_in() -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    async with client_for(create_app(quiet_config(double_opt_in=(A,)))) as client:
        await seed(client, A, [])
        await subscribe(client, subscribe_body([ANN], A, historical=True, consented_at=past))
        assert await members(client, A) == {ANN}


async def test_sms_consent_needs_an_e164_phone_number() -> None:
    async with client_for(create_app(quiet_config())) as client:
        bad = await call(
            client, "POST", URL, SUBSCRIBE, 400, body=subscribe_body([ANN], sms_phone="0151 234")
        )
        assert bad["errors"][0]["source"]["pointer"].endswith("/attributes/phone_number")
        await subscribe(client, subscribe_body([ANN], sms_phone="+491512345678"))
        sms = (await profile(client, ANN))["subscriptions"]["sms"]["marketing"]
        assert sms["consent"] == "SUBSCRIBED" and sms["can_receive_sms_marketing"] is True
        assert (await profile(client, ANN))["attributes"]["phone_number"] == "+491512345678"


async def test_subscribing_needs_the_subscriptions_write_scope() -> None:
    scoped = ((OTHER_KEY, ("lists:write", "profiles:write")),)
    app = create_app(quiet_config(key_scopes=scoped))
    async with client_for(app, key=OTHER_KEY) as client:
        error = await call(client, "POST", URL, SUBSCRIBE, 403, body=subscribe_body([ANN]))
        assert error["errors"][0]["code"] == "permission_denied"
        await call(client, "GET", "/api/profiles", "get_profiles", 200)  # write includes read
    async with client_for(app, key=KEY) as client:
        await call(client, "POST", URL, SUBSCRIBE, 202, body=subscribe_body([ANN]))


async def test_an_unknown_list_is_a_404_and_nothing_changes() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await call(client, "POST", URL, SUBSCRIBE, 404, body=subscribe_body([ANN], "Nope12"))
        await subscriptions_done(client)
        await profile(client, ANN, status=404)


async def test_a_reset_drops_subscription_jobs_not_yet_carried_out() -> None:
    async with client_for(create_app(quiet_config(time_scale=10.0))) as client:  # 50 ms delay
        await call(client, "POST", URL, SUBSCRIBE, 202, body=subscribe_body([ANN]))
        assert (await client.post("/_sandbox/reset")).status_code == 200
        await asyncio.sleep(0.1)
        assert (await client.get("/_sandbox/stats")).json()["subscriptions_pending"] == 0
        await profile(client, ANN, status=404)
