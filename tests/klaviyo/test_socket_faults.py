"""Faults over a real socket: the sandbox really closes the connection or answers 429/503."""

from __future__ import annotations

import pytest

from reconciler.klaviyo import KlaviyoClient, Pacer, ProfileInput
from reconciler.klaviyo.errors import ServerError
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.support import KEY, emails

SCALE = 60.0
pytestmark = pytest.mark.faults


def client(server: SandboxServer, **options: object) -> KlaviyoClient:
    return KlaviyoClient(
        KEY, base_url=server.base_url, time_scale=SCALE, pacer=Pacer(SCALE), **options
    )


async def test_lost_bulk_import_answer_over_a_socket_is_not_duplicated() -> None:
    with SandboxServer(SandboxConfig(time_scale=SCALE)) as server:
        server.admin.faults(
            drop_rate=1.0, max_injections=1, endpoints=["POST /api/profile-bulk-import-jobs"]
        )
        async with client(server) as api:
            target = await api.create_list("socket drop")
            jobs = await api.bulk_import(target.id, [ProfileInput(e) for e in emails("d", 321)])
            (result,) = await api.wait_for_jobs(jobs.job_ids)
        stats = server.admin.stats()
        assert stats["bulk_profiles_received"] == 321
        assert result.completed == 321
        assert server.admin.members(target.id) == set(emails("d", 321))


async def test_dropped_reads_429_and_503_over_a_socket() -> None:
    with SandboxServer(SandboxConfig(time_scale=SCALE)) as server:
        server.admin.seed("Sock02", emails("f", 900))
        server.admin.faults(error_rate=0.2, statuses=[429, 503], drop_rate=0.1, seed=7)
        async with client(server) as api:
            members = await api.read_members("Sock02")
        assert {m.email for m in members} == set(emails("f", 900))
        assert api.stats.retries > 0


async def test_502_over_a_socket_is_not_retried() -> None:
    with SandboxServer(SandboxConfig(time_scale=SCALE)) as server:
        server.admin.seed("Sock03", emails("g", 3))
        server.admin.faults(error_rate=1.0, statuses=[502], endpoints=["GET /api/lists/{id}"])
        async with client(server) as api:
            with pytest.raises(ServerError) as caught:
                await api.get_list("Sock03")
        assert caught.value.status == 502
        assert server.admin.stats()["requests"]["GET /api/lists/{id}"] == 1
