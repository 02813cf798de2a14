"""Sandbox fidelity: bulk import jobs expire, list relationships only where the spec offers
them, a lagging profile_count, identity by every identifier, nulls that never clear a value."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from reconciler.sandbox.config import SandboxConfig
from tests.fidelity.sandbox_support import CREATE, JOB, import_and_wait, profile
from tests.sandbox.helpers import call, emails, import_body, quiet_client, seed

LIST = "Y6nRLr"


async def test_a_job_expires_and_then_answers_404() -> None:
    async with quiet_client(job_ttl=40.0) as client:  # 40 virtual s = 40 ms at scale 1000
        await seed(client, LIST, [])
        body = import_body(emails("x", 2), LIST)
        accepted = await call(
            client, "POST", "/api/profile-bulk-import-jobs", CREATE, 202, body=body
        )
        job_id = accepted["data"]["id"]
        attributes = accepted["data"]["attributes"]
        created = datetime.fromisoformat(attributes["created_at"])
        assert datetime.fromisoformat(attributes["expires_at"]) - created == timedelta(
            milliseconds=40
        )
        await call(client, "GET", f"/api/profile-bulk-import-jobs/{job_id}", JOB, 200)
        await asyncio.sleep(0.08)
        gone = await call(client, "GET", f"/api/profile-bulk-import-jobs/{job_id}", JOB, 404)
        assert gone["errors"][0]["code"] == "not_found"
        errors_url = f"/api/profile-bulk-import-jobs/{job_id}/import-errors"
        await call(client, "GET", errors_url, "get_errors_for_bulk_import_profiles_job", 404)
        listing = await call(
            client, "GET", "/api/profile-bulk-import-jobs", "get_bulk_import_profiles_jobs", 200
        )
        assert listing["data"] == []


async def test_jobs_live_seven_days_by_default_scaled() -> None:
    assert SandboxConfig().job_ttl == 7 * 86_400
    async with quiet_client() as client:  # time scale 1000: 604.8 s
        await seed(client, LIST, [])
        body = import_body(emails("x", 1), LIST)
        job = await call(client, "POST", "/api/profile-bulk-import-jobs", CREATE, 202, body=body)
        attributes = job["data"]["attributes"]
        lifetime = datetime.fromisoformat(attributes["expires_at"]) - datetime.fromisoformat(
            attributes["created_at"]
        )
        assert lifetime == timedelta(seconds=604.8)


async def test_list_relationships_only_where_the_spec_offers_them() -> None:
    async with quiet_client() as client:
        await seed(client, LIST, [])
        job = await import_and_wait(client, import_body(emails("x", 1), LIST))
        job_id = job["data"]["id"]
        listing = await call(
            client, "GET", "/api/profile-bulk-import-jobs", "get_bulk_import_profiles_jobs", 200
        )
        lists = listing["data"][0]["relationships"]["lists"]
        assert "data" not in lists and "links" in lists  # the collection has no include
        plain = await call(client, "GET", f"/api/profile-bulk-import-jobs/{job_id}", JOB, 200)
        assert "data" not in plain["data"]["relationships"]["lists"]
        asked = await call(
            client,
            "GET",
            f"/api/profile-bulk-import-jobs/{job_id}",
            JOB,
            200,
            params={"include": "lists"},
        )
        assert asked["data"]["relationships"]["lists"]["data"] == [{"type": "list", "id": LIST}]
        assert [item["id"] for item in asked["included"]] == [LIST]


async def test_profile_count_lags_a_finished_job() -> None:
    async with quiet_client(count_lag=300.0) as client:  # 0.3 s real at scale 1000
        await seed(client, LIST, emails("old", 2))
        await import_and_wait(client, import_body(emails("new", 3), LIST))
        params = {"additional-fields[list]": "profile_count"}
        url = f"/api/lists/{LIST}"
        early = await call(client, "GET", url, "get_list", 200, params=params)
        members = (await client.get(f"/_sandbox/lists/{LIST}/members")).json()
        assert members["count"] == 5
        assert early["data"]["attributes"]["profile_count"] == 2
        await asyncio.sleep(0.4)
        late = await call(client, "GET", url, "get_list", 200, params=params)
        assert late["data"]["attributes"]["profile_count"] == 5


async def test_profile_count_is_current_without_a_lag() -> None:
    async with quiet_client() as client:
        await seed(client, LIST, [])
        await import_and_wait(client, import_body(emails("new", 3), LIST))
        params = {"additional-fields[list]": "profile_count"}
        found = await call(client, "GET", f"/api/lists/{LIST}", "get_list", 200, params=params)
        assert found["data"]["attributes"]["profile_count"] == 3


def _row(**attributes: object) -> dict[str, object]:
    return {"type": "profile", "attributes": attributes}


async def test_profiles_are_found_by_phone_number_and_external_id() -> None:
    async with quiet_client() as client:
        await seed(client, LIST, [])
        body = import_body([], LIST)
        body["data"]["attributes"]["profiles"]["data"] = [
            _row(phone_number="+15005550006", first_name="Pat"),
            _row(external_id="crm-7", first_name="Kim"),
        ]
        await import_and_wait(client, body)
        # a later row adds an email to each: the same profiles, not new ones
        body["data"]["attributes"]["profiles"]["data"] = [
            _row(phone_number="+15005550006", email="pat@example.com"),
            _row(external_id="crm-7", email="kim@example.com"),
        ]
        await import_and_wait(client, body)
        for name, value, email in (
            ("phone_number", "+15005550006", "pat@example.com"),
            ("external_id", "crm-7", "kim@example.com"),
        ):
            found = await call(
                client,
                "GET",
                "/api/profiles",
                "get_profiles",
                200,
                params={"filter": f'equals({name},"{value}")'},
            )
            assert len(found["data"]) == 1
            assert found["data"][0]["attributes"]["email"] == email
        members = (await client.get(f"/_sandbox/lists/{LIST}/members")).json()
        assert members["count"] == 2 and members["without_email"] == 0


async def test_a_row_naming_two_profiles_is_an_import_error_not_a_merge() -> None:
    async with quiet_client() as client:
        await seed(client, LIST, ["ann@example.com"])
        body = import_body([], LIST)
        body["data"]["attributes"]["profiles"]["data"] = [_row(external_id="crm-1")]
        await import_and_wait(client, body)
        body["data"]["attributes"]["profiles"]["data"] = [
            _row(email="ann@example.com", external_id="crm-1", first_name="Merged?")
        ]
        job = await import_and_wait(client, body)
        assert job["data"]["attributes"]["failed_count"] == 1
        errors = await call(
            client,
            "GET",
            f"/api/profile-bulk-import-jobs/{job['data']['id']}/import-errors",
            "get_errors_for_bulk_import_profiles_job",
            200,
        )
        error = errors["data"][0]["attributes"]
        assert error["code"] == "duplicate_profile"
        assert error["source"]["pointer"] == "/data/attributes/profiles/data/0/attributes"
        ann = await profile(client, "ann@example.com")
        assert ann["attributes"]["external_id"] is None
        assert ann["attributes"]["first_name"] is None


async def test_later_imports_update_properties_and_a_null_never_clears() -> None:
    """developers.klaviyo.com, Bulk Import Profiles API: "does not support setting fields to
    null to clear them. Only fields explicitly provided with non-null values will be updated"."""
    async with quiet_client() as client:
        await seed(client, LIST, [])
        first = import_body(
            ["lee@example.com"], LIST, first_name="Lee", properties={"ltv": 5, "tier": "gold"}
        )
        await import_and_wait(client, first)
        second = import_body(
            ["lee@example.com"], LIST, first_name=None, properties={"ltv": None, "tier": "silver"}
        )
        await import_and_wait(client, second)
        lee = await profile(client, "lee@example.com")
        assert lee["properties"] == {"ltv": 5, "tier": "silver"}
        assert lee["attributes"]["first_name"] == "Lee"
        found = await call(
            client,
            "GET",
            "/api/profiles",
            "get_profiles",
            200,
            params={"filter": 'equals(email,"lee@example.com")'},
        )
        assert found["data"][0]["attributes"]["properties"] == {"ltv": 5, "tier": "silver"}


async def test_patch_properties_unset_is_how_an_import_clears_a_property() -> None:
    """Slice bulk_import_profiles, ``meta.patch_properties`` (``ProfileMetaPatchProperties``):
    ``unset`` removes keys, ``append``/``unappend`` change array properties."""
    async with quiet_client() as client:
        await seed(client, LIST, [])
        first = import_body(
            ["lee@example.com"], LIST, properties={"ltv": 5, "tier": "gold", "skus": ["a"]}
        )
        await import_and_wait(client, first)
        second = import_body(["lee@example.com"], LIST)
        row = second["data"]["attributes"]["profiles"]["data"][0]
        row["meta"] = {
            "patch_properties": {
                "unset": ["ltv"],
                "append": {"skus": "b"},
                "unappend": {"skus": "a"},
            }
        }
        await import_and_wait(client, second)
        assert (await profile(client, "lee@example.com"))["properties"] == {
            "tier": "gold",
            "skus": ["b"],
        }
        row["meta"] = {"patch_properties": {"unset": 5}}
        error = await call(
            client, "POST", "/api/profile-bulk-import-jobs", CREATE, 400, body=second
        )
        assert error["errors"][0]["source"]["pointer"].endswith("/0/meta/patch_properties/unset")
