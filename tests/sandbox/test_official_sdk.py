"""The official Klaviyo Python SDK, pointed at the sandbox over a real socket."""

from __future__ import annotations

import time
from typing import Any

from klaviyo_api import KlaviyoAPI

from reconciler.sandbox import SandboxServer
from tests.sandbox.helpers import KEY as SANDBOX_KEY


def as_dict(result: Any) -> dict[str, Any]:
    found: dict[str, Any] = result if isinstance(result, dict) else result.to_dict()
    return found


def wait_for_job(sdk: KlaviyoAPI, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = as_dict(sdk.Profiles.get_bulk_import_profiles_job(job_id))
        if job["data"]["attributes"]["status"] in ("complete", "cancelled"):
            return job
        time.sleep(0.01)
    raise AssertionError("the bulk import job did not finish")


def read_members(sdk: KlaviyoAPI, list_id: str) -> dict[str, str]:
    """email -> profile id, following links.next as the SDK's page_cursor."""
    found: dict[str, str] = {}
    cursor = None
    while True:
        page = as_dict(
            sdk.Lists.get_profiles_for_list(
                list_id,
                fields_profile=["email", "joined_group_at"],
                page_size=100,
                page_cursor=cursor,
            )
        )
        found.update({p["attributes"]["email"]: p["id"] for p in page["data"]})
        cursor = page["links"].get("next")
        if not cursor:
            return found


def test_sdk_creates_imports_reads_and_removes(sandbox_server: SandboxServer) -> None:
    sdk = KlaviyoAPI(SANDBOX_KEY, max_delay=1, max_retries=3, test_host=sandbox_server.base_url)
    created = as_dict(
        sdk.Lists.create_list({"data": {"type": "list", "attributes": {"name": "SDK"}}})
    )
    list_id = created["data"]["id"]
    emails = [f"sdk{n}@example.com" for n in range(250)]
    profiles = [{"type": "profile", "attributes": {"email": email}} for email in emails]
    job = as_dict(
        sdk.Profiles.bulk_import_profiles(
            {
                "data": {
                    "type": "profile-bulk-import-job",
                    "attributes": {"profiles": {"data": profiles}},
                    "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}},
                }
            }
        )
    )
    done = wait_for_job(sdk, job["data"]["id"])
    assert done["data"]["attributes"]["completed_count"] == 250
    members = read_members(sdk, list_id)
    assert set(members) == set(emails)
    removed = [{"type": "profile", "id": members[email]} for email in emails[:40]]
    sdk.Lists.remove_profiles_from_list(list_id, {"data": removed})
    assert set(read_members(sdk, list_id)) == set(emails[40:])
    assert sandbox_server.admin.members(list_id) == set(emails[40:])
    ids = as_dict(sdk.Lists.get_profile_ids_for_list(list_id, page_size=100))
    assert len(ids["data"]) == 100 and "next" in ids["links"]
    stats = sandbox_server.admin.stats()["requests"]
    assert stats["GET /api/lists/{id}/profiles"] == 6
    assert stats["DELETE /api/lists/{id}/relationships/profiles"] == 1


def test_sdk_subscribes_and_reads_subscriptions(sandbox_server: SandboxServer) -> None:
    sdk = KlaviyoAPI(SANDBOX_KEY, max_delay=1, max_retries=3, test_host=sandbox_server.base_url)
    sandbox_server.admin.seed("Sub001", [])
    emails = [f"consent{n}@example.com" for n in range(3)]
    profiles = [
        {
            "type": "profile",
            "attributes": {
                "email": email,
                "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
            },
        }
        for email in emails
    ]
    sdk.Profiles.bulk_subscribe_profiles(
        {
            "data": {
                "type": "profile-subscription-bulk-create-job",
                "attributes": {"profiles": {"data": profiles}},
                "relationships": {"list": {"data": {"type": "list", "id": "Sub001"}}},
            }
        }
    )
    deadline = time.monotonic() + 10
    while sandbox_server.admin.stats()["subscriptions_pending"] and time.monotonic() < deadline:
        time.sleep(0.01)
    quoted = ",".join(f'"{email}"' for email in emails)
    page = as_dict(
        sdk.Profiles.get_profiles(
            filter=f"any(email,[{quoted}])", additional_fields_profile=["subscriptions"]
        )
    )
    consents = {
        p["attributes"]["email"]: p["attributes"]["subscriptions"]["email"]["marketing"]["consent"]
        for p in page["data"]
    }
    assert consents == dict.fromkeys(emails, "SUBSCRIBED")
    assert sandbox_server.admin.members("Sub001") == set(emails)
