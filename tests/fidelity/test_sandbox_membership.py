"""Sandbox fidelity: Klaviyo changes membership by itself (help.klaviyo.com, "How profiles are
added to and removed from lists", "How to remove suppressed profiles from a list")."""

from __future__ import annotations

from reconciler.sandbox import create_app
from tests.fidelity.sandbox_support import admin, profile
from tests.sandbox.helpers import call, client_for, ids_body, members, quiet_config, seed

A, B = "Y6nRLr", "Xk3pQz"
ANN, BOB = "ann@example.com", "bob@example.com"


async def test_unsubscribing_from_a_list_campaign_removes_from_that_list() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN, BOB])
        await seed(client, B, [ANN])
        done = await admin(
            client, "/_sandbox/profiles/unsubscribe", {"emails": [ANN], "list_id": A}
        )
        assert done == {"unsubscribed": 1, "removed_from_list": 1, "unknown": 0}
        assert await members(client, A) == {BOB}
        assert await members(client, B) == {ANN}
        ann = await profile(client, ANN)
        marketing = ann["subscriptions"]["email"]["marketing"]
        assert marketing["consent"] == "UNSUBSCRIBED"
        assert [s["reason"] for s in marketing["suppression"]] == ["UNSUBSCRIBE"]
        assert marketing["can_receive_email_marketing"] is False
        assert ann["lists"] == [B]


async def test_unsubscribing_from_a_flow_suppresses_and_keeps_every_list() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN])
        at = "2026-03-01T10:00:00+00:00"
        await admin(client, "/_sandbox/profiles/unsubscribe", {"emails": [ANN], "at": at})
        assert await members(client, A) == {ANN}
        suppression = (await profile(client, ANN))["subscriptions"]["email"]["marketing"]
        assert suppression["suppression"] == [{"reason": "UNSUBSCRIBE", "timestamp": at}]


async def test_a_user_removes_the_suppressed_profiles_of_a_list() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN, BOB])
        await seed(client, B, [ANN])
        await admin(client, "/_sandbox/profiles/unsubscribe", {"emails": [ANN]})
        removed = await admin(client, f"/_sandbox/lists/{A}/remove-suppressed", {})
        assert removed == {"list_id": A, "removed": 1}
        assert await members(client, A) == {BOB}
        assert await members(client, B) == {ANN}


async def test_a_deleted_profile_leaves_every_list_and_its_id_is_gone() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN, BOB])
        await seed(client, B, [ANN])
        ann_id = (await profile(client, ANN))["id"]
        assert await admin(client, "/_sandbox/profiles/delete", {"emails": [ANN]}) == {
            "deleted": 1,
            "unknown": 0,
        }
        assert await members(client, A) == {BOB} and await members(client, B) == set()
        await profile(client, ANN, status=404)
        found = await call(
            client,
            "GET",
            "/api/profiles",
            "get_profiles",
            200,
            params={"filter": f'equals(id,"{ann_id}")'},
        )
        assert found["data"] == []
        error = await call(
            client,
            "POST",
            f"/api/lists/{A}/relationships/profiles",
            "add_profiles_to_list",
            400,
            body=ids_body([ann_id]),
        )
        assert error["errors"][0]["source"]["pointer"] == "/data/0/id"


async def test_a_merge_leaves_one_profile_with_both_lists() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN])
        await seed(client, B, [BOB])
        bob_id = (await profile(client, BOB))["id"]
        ann_id = (await profile(client, ANN))["id"]
        merged = await admin(client, "/_sandbox/profiles/merge", {"into": ANN, "from": BOB})
        assert merged == {"id": ann_id, "removed_id": bob_id}
        assert await members(client, A) == {ANN} and await members(client, B) == {ANN}
        assert (await profile(client, ANN))["lists"] == sorted([A, B])
        await profile(client, BOB, status=404)
        ids = await call(
            client,
            "GET",
            f"/api/lists/{B}/relationships/profiles",
            "get_profile_ids_for_list",
            200,
        )
        assert [item["id"] for item in ids["data"]] == [ann_id]


async def test_admin_profile_endpoints_check_their_input() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await seed(client, A, [ANN])
        for path, body in (
            ("/_sandbox/profiles/unsubscribe", {"emails": "ann@example.com"}),
            ("/_sandbox/profiles/unsubscribe", {"emails": [ANN], "reason": "BORED"}),
            ("/_sandbox/profiles/merge", {"into": ANN, "from": ANN}),
        ):
            response = await client.post(path, json=body)
            assert response.status_code == 400, (path, response.text)
        missing = await client.post(
            "/_sandbox/profiles/unsubscribe", json={"emails": [ANN], "list_id": "Nope12"}
        )
        assert missing.status_code == 404
        assert (await client.get("/_sandbox/profiles")).status_code == 400
