"""What is retried (429, 503, 504, dropped connections) and what is not (400/401/403/404/502),
using the sandbox's fault switch in-process; lost bulk-import answers are never duplicated."""

from __future__ import annotations

import time
from typing import Any

import pytest

from reconciler.klaviyo import KlaviyoClient, Pacer, ProfileInput
from reconciler.klaviyo.errors import (
    AuthError,
    KlaviyoHTTPError,
    NotFoundError,
    ServerError,
    TransportError,
    ValidationError,
)
from reconciler.sandbox.app import SandboxApp
from tests.klaviyo.support import admin_call, client_for, emails, sandbox_app, seed

SCALE = 60.0
GET_LIST = "GET /api/lists/{id}"
BULK = "POST /api/profile-bulk-import-jobs"


async def faults(app: SandboxApp, **settings: Any) -> None:
    await admin_call(app, "PUT", "faults", json=settings)


async def stats(app: SandboxApp) -> dict[str, Any]:
    result: dict[str, Any] = await admin_call(app, "GET", "stats")
    return result


@pytest.mark.parametrize("retry_after", [True, False])
async def test_429_is_retried_after_the_advised_wait(retry_after: bool) -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Lst001", emails("a", 3))
    await faults(
        app,
        error_rate=1.0,
        statuses=[429],
        retry_after=retry_after,
        max_injections=2,
        endpoints=[GET_LIST],
    )
    client, recorder = client_for(app, time_scale=SCALE)
    async with client:
        started = time.monotonic()
        found = await client.get_list("Lst001")
        elapsed = time.monotonic() - started
    assert found.id == "Lst001"
    counters = client.stats.for_endpoint(GET_LIST)
    assert (counters.requests, counters.retries, counters.throttled) == (3, 2, 2)
    assert len(recorder.sent) == 3
    # Retry-After (or "Expected available in 1 second") is 1 virtual second = 1/60 s
    assert elapsed >= 2 / SCALE * 0.9


@pytest.mark.parametrize("status", [503, 504])
async def test_503_and_504_are_retried(status: int) -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Lst001", emails("a", 3))
    await faults(app, error_rate=1.0, statuses=[status], max_injections=2, endpoints=[GET_LIST])
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        assert (await client.get_list("Lst001")).id == "Lst001"
    assert client.stats.retries == 2


async def test_dropped_connections_are_retried_for_reads() -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Lst001", emails("a", 250))
    await faults(app, drop_rate=1.0, max_injections=3, endpoints=["GET /api/lists/{id}/profiles"])
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        members = await client.read_members("Lst001")
    assert len(members) == 250
    assert client.stats.retries == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ValidationError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ValidationError),
        (502, ServerError),
    ],
)
async def test_these_statuses_are_never_retried(status: int, error: type[KlaviyoHTTPError]) -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Lst001", emails("a", 3))
    await faults(app, error_rate=1.0, statuses=[status], max_injections=1, endpoints=[GET_LIST])
    client, recorder = client_for(app, time_scale=SCALE)
    async with client:
        with pytest.raises(error) as caught:
            await client.get_list("Lst001")
        assert (await client.get_list("Lst001")).id == "Lst001"  # the next call is fine
    assert caught.value.status == status
    assert caught.value.method == "GET" and caught.value.path == "/api/lists/Lst001"
    assert client.stats.retries == 0 and len(recorder.sent) == 2


async def test_retries_are_bounded() -> None:
    app = sandbox_app(SCALE)
    await seed(app, "Lst001", emails("a", 3))
    await faults(app, error_rate=1.0, statuses=[503], endpoints=[GET_LIST])
    client, recorder = client_for(app, time_scale=SCALE, max_retries=2)
    async with client:
        with pytest.raises(ServerError) as caught:
            await client.get_list("Lst001")
    assert caught.value.status == 503
    assert len(recorder.sent) == 3


async def test_wrong_key_is_an_auth_error_without_the_key() -> None:
    import httpx

    app = sandbox_app(SCALE)
    secret = "pk_wrong_0123456789abcdef"
    client = KlaviyoClient(
        secret,
        base_url="http://127.0.0.1",
        transport=httpx.ASGITransport(app=app),
        time_scale=SCALE,
        pacer=Pacer(SCALE),
    )
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.verify_key()
    assert caught.value.status == 403
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in repr(caught.value.__dict__)


async def test_connection_refused_is_a_transport_error_after_retries() -> None:
    client = KlaviyoClient(
        "sandbox-key", base_url="http://127.0.0.1:9", time_scale=1000.0, max_retries=2
    )
    async with client:
        with pytest.raises(TransportError) as caught:
            await client.verify_key()
    assert "3 attempt(s)" in str(caught.value)
    assert client.stats.requests == 3


async def test_lost_bulk_import_answer_is_found_not_resent() -> None:
    app = sandbox_app(SCALE)
    await faults(app, drop_rate=1.0, max_injections=1, endpoints=[BULK])
    client, recorder = client_for(app, time_scale=SCALE)
    profiles = [ProfileInput(e) for e in emails("lost", 700)]
    async with client:
        target = await client.create_list("lost answers")
        job_ids = (await client.bulk_import(target.id, profiles)).job_ids
        results = await client.wait_for_jobs(job_ids)
    counters = await stats(app)
    assert counters["bulk_profiles_received"] == 700
    assert len(job_ids) == 1 and results[0].completed == 700
    assert sum(1 for s in recorder.sent if s.method == "POST" and "bulk" in s.path) == 1
    assert recorder.validate_bodies() == 2


async def test_lost_answer_of_a_refused_bulk_import_is_resubmitted_once() -> None:
    app = sandbox_app(SCALE)
    # the first POST is refused (503, no job created) and its answer is lost on top
    await faults(
        app, error_rate=1.0, statuses=[503], drop_rate=1.0, max_injections=2, endpoints=[BULK]
    )
    client, recorder = client_for(app, time_scale=SCALE)
    async with client:
        target = await client.create_list("resubmit")
        submitted = await client.bulk_import(target.id, [ProfileInput(e) for e in emails("r", 40)])
        await client.wait_for_jobs(submitted.job_ids)
        members = await client.read_members(target.id)
    assert (await stats(app))["bulk_profiles_received"] == 40
    assert len(members) == 40
    assert sum(1 for s in recorder.sent if s.method == "POST" and "bulk" in s.path) == 2


async def test_bad_profiles_named_by_a_400_are_dropped_and_the_rest_resent() -> None:
    from reconciler.klaviyo.bulk import BulkImporter
    from reconciler.klaviyo.chunks import Prepared, prepare
    from reconciler.klaviyo.jsonapi import encode

    app = sandbox_app(SCALE)
    client, recorder = client_for(app, time_scale=SCALE)
    ready, _ = prepare([ProfileInput(e) for e in emails("ok", 5)])
    # addresses our own check would stop: here they reach Klaviyo, as a stricter check would
    bad = [
        Prepared(b, encode({"type": "profile", "attributes": {"email": b}}))
        for b in ("no-at-sign", "two@@example.com")
    ]
    chunk = [ready[0], bad[0], *ready[1:3], bad[1], *ready[3:]]
    async with client:
        target = await client.create_list("partly bad")
        importer = BulkImporter(client._sender, client._jobs, target.id, max_attempts=3)
        submission = await importer.submit([chunk])
        await client.wait_for_jobs(submission.job_ids)
        members = await client.read_members(target.id)
    assert sorted(f.email for f in submission.rejected) == ["no-at-sign", "two@@example.com"]
    assert all("Invalid email" in f.reason for f in submission.rejected)
    assert {m.email for m in members} == set(emails("ok", 5))
    posts = [s for s in recorder.sent if s.method == "POST" and "bulk" in s.path]
    assert [len(p.json()["data"]["attributes"]["profiles"]["data"]) for p in posts] == [7, 5]


async def test_cancelled_job_is_reported_as_such() -> None:
    app = sandbox_app(SCALE)
    await faults(app, fail_next_bulk_job=True)
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        target = await client.create_list("cancel")
        submitted = await client.bulk_import(target.id, [ProfileInput(e) for e in emails("c", 200)])
        (result,) = await client.wait_for_jobs(submitted.job_ids)
    assert result.status == "cancelled"
    assert result.completed < 200
