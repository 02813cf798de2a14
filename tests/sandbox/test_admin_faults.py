"""Admin endpoints and the fault switch, over a real socket and in-process."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SandboxConfig, SandboxError, SandboxServer, create_app
from tests.openapi_contract import validate_response
from tests.sandbox.helpers import HEADERS, client_for, emails, import_body, quiet_config


def api(server: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=10)


def test_admin_seed_members_remove_stats_reset(sandbox_server: SandboxServer) -> None:
    admin = sandbox_server.admin
    assert admin.seed("Y6nRLr", ["A@Example.com", *emails("s", 4)]) == 5
    assert admin.seed("Y6nRLr", ["a@example.com"]) == 0
    assert admin.members("Y6nRLr") == {"a@example.com", *emails("s", 4)}
    assert admin.remove("Y6nRLr", ["a@example.com", "nobody@example.com"]) == 1
    assert admin.members("Y6nRLr") == set(emails("s", 4))
    with api(sandbox_server) as client:
        page = client.get("/api/lists/Y6nRLr/profiles", params={"page[size]": 2})
        client.get(page.json()["links"]["next"])
        client.get("/api/lists/Y6nRLr/")
    stats = admin.stats()
    assert stats["requests"] == {"GET /api/lists/{id}/profiles": 2, "GET /api/lists/{id}": 1}
    assert stats["throttled"] == 0 and stats["bulk_jobs"] == 0
    admin.reset()
    assert admin.stats()["requests"] == {}
    with pytest.raises(SandboxError, match="does not exist"):
        admin.members("Y6nRLr")


def test_seed_rejects_invalid_emails_without_echoing_them(sandbox_server: SandboxServer) -> None:
    with pytest.raises(SandboxError) as caught:
        sandbox_server.admin.seed("Y6nRLr", ["ok@example.com", "secret.person@@example.com"])
    assert "1 invalid" in str(caught.value) and "secret.person" not in str(caught.value)
    with pytest.raises(SandboxError, match="letters and digits"):
        sandbox_server.admin.seed("bad-id!", ["ok@example.com"])


def test_injected_errors(sandbox_server: SandboxServer) -> None:
    admin = sandbox_server.admin
    admin.faults(error_rate=1.0, statuses=[503], max_injections=2)
    with api(sandbox_server) as client:
        failed = [client.get("/api/lists") for _ in range(3)]
        assert [r.status_code for r in failed] == [503, 503, 200]
        validate_response("get_lists", 503, failed[0].json())
        assert failed[0].headers["Retry-After"] == "1"
        admin.faults(error_rate=1.0, statuses=[429], retry_after=False)
        throttled = client.get("/api/lists")
        assert throttled.status_code == 429 and "Retry-After" not in throttled.headers
        assert "Expected available in 1 second." in throttled.json()["errors"][0]["detail"]
        admin.faults(error_rate=1.0, statuses=[500], endpoints=["GET /api/accounts"])
        assert client.get("/api/lists").status_code == 200
        assert client.get("/api/accounts").status_code == 500
        admin.faults()
        assert client.get("/api/accounts").status_code == 200
    assert admin.stats()["faults_injected"] == 4


def test_dropped_response_after_the_job_was_created(sandbox_server: SandboxServer) -> None:
    admin = sandbox_server.admin
    admin.seed("Y6nRLr", [])
    admin.faults(drop_rate=1.0, endpoints=["POST /api/profile-bulk-import-jobs"])
    with api(sandbox_server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(
                "/api/profile-bulk-import-jobs", json=import_body(["d@example.com"], "Y6nRLr")
            )
        admin.faults()
        jobs = client.get("/api/profile-bulk-import-jobs")
    assert jobs.status_code == 200 and len(jobs.json()["data"]) == 1
    stats = admin.stats()
    assert stats["bulk_jobs"] == 1 and stats["bulk_profiles_received"] == 1
    assert stats["responses_dropped"] == 1


def test_latency(sandbox_server: SandboxServer) -> None:
    sandbox_server.admin.faults(latency_ms=120)
    with api(sandbox_server) as client:
        started = time.monotonic()
        assert client.get("/api/lists").status_code == 200
        assert time.monotonic() - started >= 0.12


def test_bad_fault_settings_are_refused(sandbox_server: SandboxServer) -> None:
    with pytest.raises(SandboxError, match="error_rate"):
        sandbox_server.admin.faults(error_rate=2)
    with pytest.raises(SandboxError, match="cannot inject"):
        sandbox_server.admin.faults(error_rate=0.5, statuses=[302])
    with pytest.raises(SandboxError, match="Extra inputs"):
        sandbox_server.admin.faults(typo_rate=0.5)


def test_fault_rate_from_the_config() -> None:
    config = SandboxConfig(time_scale=60, fault_rate=1.0)
    with SandboxServer(config) as server, api(server) as client:
        statuses = {client.get("/api/lists").status_code for _ in range(10)}
        assert statuses <= {429, 500, 503} and statuses
        assert server.admin.stats()["faults_injected"] == 10


async def test_in_process_drop_raises_the_transport_error() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await client.put("/_sandbox/faults", json={"drop_rate": 1.0})
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/api/lists")


async def test_admin_only_answers_loopback_clients() -> None:
    transport = httpx.ASGITransport(app=create_app(quiet_config()), client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        response = await client.get("/_sandbox/stats")
    assert response.status_code == 403


def test_config_is_checked() -> None:
    for bad in ({"api_keys": ()}, {"time_scale": 0}, {"fault_rate": 1.5}, {"api_keys": ("a", "a")}):
        with pytest.raises(SandboxError):
            SandboxConfig(**bad)
    fidelity: list[dict[str, Any]] = [
        {"job_ttl": 0},
        {"l_steady": 0},
        {"remaining_noise": 1.0},
        {"count_lag": -1},
        {"auth_errors": "old"},
        {"datetime_filters": "loose"},
        {"key_scopes": (("unknown-key", ("lists:read",)),)},
    ]
    for wrong in fidelity:
        with pytest.raises(SandboxError):
            SandboxConfig(**wrong)
