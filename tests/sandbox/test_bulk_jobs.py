"""Bulk profile import jobs: validation, asynchronous lifecycle, import errors, job listing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from reconciler.sandbox import create_app
from tests.openapi_contract import validate_response
from tests.sandbox.helpers import (
    call,
    client_for,
    emails,
    import_body,
    members,
    quiet_client,
    quiet_config,
    seed,
)

JOB = "get_bulk_import_profiles_job"
CREATE = "bulk_import_profiles"


async def wait_for(client: httpx.AsyncClient, job_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        job = await call(client, "GET", f"/api/profile-bulk-import-jobs/{job_id}", JOB, 200)
        status = job["data"]["attributes"]["status"]
        seen.append(status)
        if status in ("complete", "cancelled"):
            job["seen"] = seen
            return job
        await asyncio.sleep(0.005)
    raise AssertionError(f"job {job_id} did not finish: {seen[-3:]}")


async def test_job_lifecycle_adds_members_when_complete() -> None:
    async with quiet_client(time_scale=100.0, import_rate=1_000.0) as client:
        await seed(client, "Y6nRLr", emails("old", 2))
        accepted = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(
                [*emails("new", 3000), "Old0@Example.com"], "Y6nRLr", first_name="Ada"
            ),
        )
        attributes = accepted["data"]["attributes"]
        assert attributes["status"] == "queued" and attributes["total_count"] == 3001
        assert await members(client, "Y6nRLr") == set(emails("old", 2))
        job = await wait_for(client, accepted["data"]["id"])
        assert job["seen"][0] in ("queued", "processing") and "processing" in job["seen"]
        done = job["data"]["attributes"]
        assert done["status"] == "complete" and done["completed_count"] == 3001
        assert done["failed_count"] == 0 and done["completed_at"] >= done["started_at"]
        assert await members(client, "Y6nRLr") == set(emails("new", 3000)) | set(emails("old", 2))
        profile = await call(
            client,
            "GET",
            "/api/profiles",
            "get_profiles",
            200,
            params={"filter": 'equals(email,"new7@example.com")'},
        )
        assert profile["data"][0]["attributes"]["first_name"] == "Ada"


async def test_import_rate_sets_the_minimum_duration() -> None:
    async with quiet_client(time_scale=10.0, import_rate=10_000.0) as client:
        started = time.monotonic()
        accepted = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(emails("r", 5000)),
        )
        await wait_for(client, accepted["data"]["id"])
        elapsed = time.monotonic() - started
    assert elapsed >= 5000 / (10_000 * 10)  # 0.05 s: profiles / (rate x scale)
    assert elapsed < 5


async def test_a_worker_held_up_by_a_busy_event_loop_catches_up() -> None:
    """The import worker keeps its own timeline (Klaviyo imports on other machines than those
    answering requests): once the loop was busy for longer than the jobs take, both finish
    within a few loop turns, not a job's processing time later."""
    async with quiet_client(time_scale=10.0, import_rate=10_000.0) as client:
        ids = []
        for prefix in ("a", "b"):  # each: 0.05 s queued, 0.05 s processing (real seconds)
            accepted = await call(
                client,
                "POST",
                "/api/profile-bulk-import-jobs",
                CREATE,
                202,
                body=import_body(emails(prefix, 5000)),
            )
            ids.append(accepted["data"]["id"])
        time.sleep(0.4)  # the loop is busy (say, parsing other accounts' requests)
        for _ in range(100):
            await asyncio.sleep(0)
        for job_id in ids:
            job = await call(client, "GET", f"/api/profile-bulk-import-jobs/{job_id}", JOB, 200)
            assert job["data"]["attributes"]["status"] == "complete"


async def test_malformed_emails_reject_the_whole_request_with_pointers() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", [])
        addresses = ["ok@example.com", "not-an-email", "also@ok.com", "bad@@example.com"]
        error = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            400,
            body=import_body(addresses, "Y6nRLr"),
        )
        pointers = [e["source"]["pointer"] for e in error["errors"]]
        assert pointers == [
            "/data/attributes/profiles/data/1/attributes/email",
            "/data/attributes/profiles/data/3/attributes/email",
        ]
        stats = (await client.get("/_sandbox/stats")).json()
        assert stats["bulk_jobs"] == 0 and await members(client, "Y6nRLr") == set()


async def test_request_limits() -> None:
    async with quiet_client() as client:
        error = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            400,
            body=import_body(emails("x", 10_001)),
        )
        assert "10000" in error["errors"][0]["detail"]
        await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(emails("x", 10_000)),
        )
        huge = import_body(["big@example.com"], bio="x" * (5 * 1024 * 1024))
        response = await client.post("/api/profile-bulk-import-jobs", json=huge)
        assert response.status_code == 413
        validate_response(CREATE, 413, response.json())
        assert response.json()["errors"][0]["code"] == "payload_too_large"
        missing = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            404,
            body=import_body(["a@example.com"], "NoSuch"),
        )
        assert missing["errors"][0]["source"]["pointer"] == "/data/relationships/lists/data/0/id"
        empty = await call(
            client, "POST", "/api/profile-bulk-import-jobs", CREATE, 400, body=import_body([])
        )
        assert empty["errors"][0]["source"]["pointer"] == "/data/attributes/profiles/data"


async def test_import_errors_name_each_failed_profile() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", [])
        body = import_body(emails("e", 3), "Y6nRLr")
        body["data"]["attributes"]["profiles"]["data"][1]["attributes"]["phone_number"] = "12345"
        phone = "+15005550006"
        body["data"]["attributes"]["profiles"]["data"] += [
            {"type": "profile", "attributes": {"phone_number": phone}},  # a profile of its own
            # its identifiers name two profiles (e2's and the one above): refused, not merged
            {"type": "profile", "attributes": {"email": "e2@example.com", "phone_number": phone}},
        ]
        accepted = await call(
            client, "POST", "/api/profile-bulk-import-jobs", CREATE, 202, body=body
        )
        job_id = accepted["data"]["id"]
        done = (await wait_for(client, job_id))["data"]["attributes"]
        assert (done["completed_count"], done["failed_count"]) == (3, 2)
        errors = await call(
            client,
            "GET",
            f"/api/profile-bulk-import-jobs/{job_id}/import-errors",
            "get_errors_for_bulk_import_profiles_job",
            200,
            params={"page[size]": 1},
        )
        assert errors["data"][0]["attributes"]["code"] == "invalid_phone_number"
        assert errors["data"][0]["attributes"]["source"]["pointer"].startswith(
            "/data/attributes/profiles/data/1"
        )
        following = await call(
            client, "GET", errors["links"]["next"], "get_errors_for_bulk_import_profiles_job", 200
        )
        conflict = following["data"][0]["attributes"]
        assert conflict["code"] == "duplicate_profile"
        assert conflict["source"]["pointer"] == "/data/attributes/profiles/data/4/attributes"
        assert await members(client, "Y6nRLr") == {"e0@example.com", "e2@example.com"}
        listed = (await client.get("/_sandbox/lists/Y6nRLr/members")).json()
        assert listed["without_email"] == 1  # the phone-only profile joined too
        await call(
            client,
            "GET",
            f"/api/profile-bulk-import-jobs/{job_id}/import-errors",
            "get_errors_for_bulk_import_profiles_job",
            400,
            params={"page[size]": 101},
        )


async def test_listing_jobs_with_status_filter_and_include() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", [])
        first = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(["a@example.com"], "Y6nRLr"),
        )
        await wait_for(client, first["data"]["id"])
        await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(["b@example.com"]),
        )
        complete = await call(
            client,
            "GET",
            "/api/profile-bulk-import-jobs",
            "get_bulk_import_profiles_jobs",
            200,
            params={"filter": 'equals(status,"complete")'},
        )
        assert [job["id"] for job in complete["data"]] == [first["data"]["id"]]
        newest = await call(
            client,
            "GET",
            "/api/profile-bulk-import-jobs",
            "get_bulk_import_profiles_jobs",
            200,
            params={
                "sort": "-created_at",
                "filter": 'any(status,["queued","processing","complete"])',
            },
        )
        assert len(newest["data"]) == 2 and newest["data"][1]["id"] == first["data"]["id"]
        included = await call(
            client,
            "GET",
            f"/api/profile-bulk-import-jobs/{first['data']['id']}",
            JOB,
            200,
            params={"include": "lists"},
        )
        assert included["included"][0]["id"] == "Y6nRLr"
        await call(client, "GET", "/api/profile-bulk-import-jobs/nope", JOB, 404)
        await call(
            client,
            "GET",
            "/api/profile-bulk-import-jobs",
            "get_bulk_import_profiles_jobs",
            400,
            params={"filter": 'equals(name,"x")'},
        )


async def test_fail_next_bulk_job_ends_it_cancelled() -> None:
    app = create_app(quiet_config())
    async with client_for(app) as client:
        await seed(client, "Y6nRLr", [])
        assert (
            await client.put("/_sandbox/faults", json={"fail_next_bulk_job": True})
        ).status_code == 200
        accepted = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(emails("c", 10), "Y6nRLr"),
        )
        done = (await wait_for(client, accepted["data"]["id"]))["data"]["attributes"]
        assert done["status"] == "cancelled" and done["completed_count"] == 5
        assert await members(client, "Y6nRLr") == set(emails("c", 5))
        again = await call(
            client,
            "POST",
            "/api/profile-bulk-import-jobs",
            CREATE,
            202,
            body=import_body(emails("c", 10), "Y6nRLr"),
        )
        assert (await wait_for(client, again["data"]["id"]))["data"]["attributes"][
            "status"
        ] == "complete"
        assert await members(client, "Y6nRLr") == set(emails("c", 10))
