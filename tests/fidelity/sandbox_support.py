"""Helpers for the sandbox-level fidelity tests (``test_sandbox_*.py``): waiting for jobs and
reading what the sandbox knows about a profile."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.sandbox.helpers import call

JOB = "get_bulk_import_profiles_job"
CREATE = "bulk_import_profiles"
SUBSCRIBE = "bulk_subscribe_profiles"


async def wait_for_job(client: httpx.AsyncClient, job_id: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await call(client, "GET", f"/api/profile-bulk-import-jobs/{job_id}", JOB, 200)
        if job["data"]["attributes"]["status"] in ("complete", "cancelled"):
            return job
        await asyncio.sleep(0.005)
    raise AssertionError(f"job {job_id} did not finish")


async def import_and_wait(client: httpx.AsyncClient, body: dict[str, Any]) -> Any:
    accepted = await call(client, "POST", "/api/profile-bulk-import-jobs", CREATE, 202, body=body)
    return await wait_for_job(client, accepted["data"]["id"])


async def subscriptions_done(client: httpx.AsyncClient, timeout: float = 10.0) -> None:
    """Wait until every accepted subscription job has been carried out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = (await client.get("/_sandbox/stats")).json()
        if stats["subscriptions_pending"] == 0:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("subscription jobs were not carried out")


async def profile(client: httpx.AsyncClient, email: str, status: int = 200) -> Any:
    response = await client.get("/_sandbox/profiles", params={"email": email})
    assert response.status_code == status, response.text
    return response.json()


async def admin(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def subscribe_body(
    emails: list[str],
    list_id: str | None = None,
    *,
    historical: bool | None = None,
    consented_at: str | None = None,
    sms_phone: str | None = None,
) -> dict[str, Any]:
    marketing: dict[str, Any] = {"consent": "SUBSCRIBED"}
    if consented_at is not None:
        marketing["consented_at"] = consented_at
    profiles = []
    for email in emails:
        attributes: dict[str, Any] = {
            "email": email,
            "subscriptions": {"email": {"marketing": dict(marketing)}},
        }
        if sms_phone is not None:
            attributes["phone_number"] = sms_phone
            attributes["subscriptions"]["sms"] = {"marketing": dict(marketing)}
        profiles.append({"type": "profile", "attributes": attributes})
    attributes_: dict[str, Any] = {"profiles": {"data": profiles}}
    if historical is not None:
        attributes_["historical_import"] = historical
    data: dict[str, Any] = {
        "type": "profile-subscription-bulk-create-job",
        "attributes": attributes_,
    }
    if list_id is not None:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": data}
