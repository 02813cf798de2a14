"""Sandbox fidelity: the L tier's steady limit as configured, an approximate
RateLimit-Remaining, writes that took effect and were then answered 504/524 or not at all."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import SandboxServer, create_app
from reconciler.sandbox.config import SandboxConfig
from tests.openapi_contract import validate_response
from tests.sandbox.helpers import HEADERS, call, client_for, list_body, quiet_config

LISTS = "get_lists"


def limited(**overrides: object) -> SandboxConfig:
    return quiet_config(rate_limits=True, time_scale=1.0, **overrides)


async def test_the_l_tier_steady_limit_is_configurable() -> None:
    assert SandboxConfig().l_steady == 750
    async with client_for(create_app(limited(l_steady=700, remaining_noise=0.0))) as client:
        response = await client.get("/api/lists")
        assert response.headers["RateLimit-Limit"] == "700"
        assert response.headers["RateLimit-Remaining"] == "699"
    async with client_for(create_app(limited(l_steady=3, remaining_noise=0.0))) as client:
        answers = [await client.get("/api/lists") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    validate_response(LISTS, 429, answers[-1].json())
    assert int(answers[-1].headers["Retry-After"]) > 1  # the steady window, not the burst
    # the M tier keeps its published numbers
    async with client_for(create_app(limited(l_steady=3))) as client:
        jobs = await client.get("/api/profile-bulk-import-jobs")
    assert jobs.headers["RateLimit-Limit"] == "150"


async def test_remaining_is_approximate() -> None:
    assert SandboxConfig().remaining_noise == 0.05
    app = create_app(limited(remaining_noise=0.1, noise_seed=7))
    async with client_for(app) as client:
        reported = [
            int((await client.get("/api/lists")).headers["RateLimit-Remaining"]) for _ in range(40)
        ]
    exact = [750 - n for n in range(1, 41)]
    errors = [r - e for r, e in zip(reported, exact, strict=True)]
    assert any(errors) and max(abs(e) for e in errors) <= 75
    assert any(e > 0 for e in errors)  # sometimes more than is really left: keep a margin


async def test_a_write_that_took_effect_can_be_answered_504() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await client.put(
            "/_sandbox/faults",
            json={"after_effect_rate": 1.0, "after_effect_statuses": [504], "seed": 1},
        )
        answer = await call(client, "POST", "/api/lists", "create_list", 504, body=list_body("A"))
        assert answer["errors"][0]["status"] == 504
        await client.put("/_sandbox/faults", json={})
        found = await call(client, "GET", "/api/lists", LISTS, 200)
        assert [item["attributes"]["name"] for item in found["data"]] == ["A"]
        stats = (await client.get("/_sandbox/stats")).json()
        assert stats["after_effects"] == 1


async def test_a_write_that_took_effect_can_be_answered_524_by_cloudflare() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await client.put(
            "/_sandbox/faults", json={"after_effect_rate": 1.0, "after_effect_statuses": [524]}
        )
        response = await client.post("/api/lists", json=list_body("B"))
        assert response.status_code == 524
        assert response.headers["content-type"].startswith("text/html")  # not JSON:API
        await client.put("/_sandbox/faults", json={})
        found = await call(client, "GET", "/api/lists", LISTS, 200)
        assert len(found["data"]) == 1


async def test_524_is_injectable_before_the_request_is_carried_out() -> None:
    async with client_for(create_app(quiet_config())) as client:
        await client.put("/_sandbox/faults", json={"error_rate": 1.0, "statuses": [524]})
        response = await client.post("/api/lists", json=list_body("C"))
        assert response.status_code == 524
        await client.put("/_sandbox/faults", json={})
        found = await call(client, "GET", "/api/lists", LISTS, 200)
        assert found["data"] == []


def test_a_write_that_took_effect_can_lose_its_answer_over_a_socket() -> None:
    with SandboxServer(quiet_config()) as server:
        server.admin.faults(after_effect_rate=1.0, after_effect_statuses=["drop"])
        with httpx.Client(base_url=server.base_url, headers=HEADERS) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("/api/lists", json=list_body("D"))
            server.admin.faults()
            found = client.get("/api/lists").json()
        assert [item["attributes"]["name"] for item in found["data"]] == ["D"]


async def test_after_effect_settings_are_checked() -> None:
    async with client_for(create_app(quiet_config())) as client:
        for bad in ({"after_effect_statuses": [429]}, {"after_effect_rate": 2}):
            response = await client.put("/_sandbox/faults", json=bad)
            assert response.status_code == 400, bad
