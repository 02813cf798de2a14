"""Concurrent requests against one sandbox keep its state exact."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from reconciler.sandbox import SandboxConfig, SandboxServer, create_app
from tests.sandbox.helpers import (
    HEADERS,
    client_for,
    emails,
    import_body,
    members,
    quiet_config,
    seed,
)


async def test_concurrent_jobs_and_removals_in_process() -> None:
    async with client_for(create_app(quiet_config(time_scale=1000.0))) as client:
        await seed(client, "Y6nRLr", emails("gone", 300))
        jobs = [
            client.post(
                "/api/profile-bulk-import-jobs", json=import_body(emails(f"j{n}-", 200), "Y6nRLr")
            )
            for n in range(10)
        ]
        removals = [
            client.request(
                "DELETE",
                "/_sandbox/lists/Y6nRLr/members",
                json={"emails": emails("gone", 300)[n::3]},
            )
            for n in range(3)
        ]
        answers = await asyncio.gather(*jobs, *removals)
        assert [r.status_code for r in answers] == [202] * 10 + [200] * 3
        expected = {e for n in range(10) for e in emails(f"j{n}-", 200)}
        for _ in range(400):
            if await members(client, "Y6nRLr") == expected:
                break
            await asyncio.sleep(0.01)
        assert await members(client, "Y6nRLr") == expected


def test_threads_over_a_real_socket() -> None:
    config = SandboxConfig(time_scale=60, rate_limits=False)
    with SandboxServer(config) as server:
        server.admin.seed("Y6nRLr", [])

        def add(n: int) -> int:
            with httpx.Client(base_url=server.base_url, headers=HEADERS) as client:
                seeded = client.post(
                    "/_sandbox/lists/Y6nRLr/members", json={"emails": emails(f"t{n}-", 100)}
                )
                page = client.get("/api/lists/Y6nRLr/profiles", params={"page[size]": 100})
                assert page.status_code == 200
                added: int = seeded.json()["added"]
                return added

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert sum(pool.map(add, range(16))) == 1600
        assert len(server.admin.members("Y6nRLr")) == 1600
        assert server.admin.stats()["requests"]["GET /api/lists/{id}/profiles"] == 16
