"""Nothing that creates is retried blindly (issue 18; issue 17 item 4), over a real socket.

A bulk import POST or a list create whose answer is lost (the connection dropped, or 503, 504,
524, which Klaviyo can send after the write took effect) is looked up before it is sent again;
a lost bulk submission is matched to its job by content (its count and a sample of its emails
through the job's profiles relationship; where those cannot be seen, a sample of the chunk's
addresses must be list members once the candidate finished), never by size alone, so two
slices of one size in flight, or another integration's job of that size, are never taken for
each other.

On main before this change: the two-slices test returned one job id twice (the second slice's
job was never recorded, its profiles not counted); a 504 or 524 after the effect made the POST
go out again (two jobs, two lists); a dropped list create was an error. The two tests of a
request refused BEFORE its effect (503) pass on main too, where a 503 was re-sent blindly:
they guard the new lookup (it must not claim a job that is not its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.klaviyo import KlaviyoClient, Pacer, ProfileInput
from reconciler.klaviyo.transport.http import REVISION
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.support import KEY, emails

SCALE = 60.0
BULK = "POST /api/profile-bulk-import-jobs"
CREATE_LIST = "POST /api/lists"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(api_keys=(KEY,), time_scale=SCALE)) as running:
        yield running


def client(server: SandboxServer) -> KlaviyoClient:
    return KlaviyoClient(KEY, base_url=server.base_url, time_scale=SCALE, pacer=Pacer(SCALE))


def profiles(prefix: str, count: int) -> list[ProfileInput]:
    return [ProfileInput(e) for e in emails(prefix, count)]


def lists_named(server: SandboxServer, name: str) -> int:
    """How many lists of that name the account has (through the API, as a user would look)."""
    headers = {"Authorization": f"Klaviyo-API-Key {KEY}", "revision": REVISION}
    params = {"filter": f'equals(name,"{name}")'}
    response = httpx.get(f"{server.base_url}/api/lists", params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["data"]
    return len(found)


async def test_two_slices_of_one_size_whose_answers_were_lost_each_get_their_own_job(
    server: SandboxServer,
) -> None:
    server.admin.seed("Two001", [])
    # both POSTs are carried out, then their connections dropped before the answer
    server.admin.faults(drop_rate=1.0, max_injections=2, endpoints=[BULK])
    async with client(server) as api:
        first, second = await asyncio.gather(
            api.bulk_import("Two001", profiles("a", 60)),
            api.bulk_import("Two001", profiles("b", 60)),
        )
        ids = [*first.job_ids, *second.job_ids]
        results = await api.wait_for_jobs(ids)
    assert len(ids) == 2 and len(set(ids)) == 2  # main: one job id twice
    assert sum(r.completed for r in results) == 120
    assert server.admin.stats()["bulk_profiles_received"] == 120  # nothing sent twice
    assert server.admin.members("Two001") == set(emails("a", 60) + emails("b", 60))


@pytest.mark.parametrize("status", [504, 524])
async def test_a_bulk_post_answered_with_an_error_after_its_effect_is_not_sent_again(
    server: SandboxServer, status: int
) -> None:
    server.admin.seed("Aft001", [])
    server.admin.faults(
        after_effect_rate=1.0, after_effect_statuses=[status], max_injections=1, endpoints=[BULK]
    )
    async with client(server) as api:
        submitted = await api.bulk_import("Aft001", profiles("c", 80))
        (result,) = await api.wait_for_jobs(submitted.job_ids)
    assert result.completed == 80
    assert server.admin.stats()["bulk_profiles_received"] == 80  # main: 160 (sent twice)


async def test_a_lost_post_is_not_matched_to_another_integrations_job_of_its_size(
    server: SandboxServer,
) -> None:
    server.admin.seed("Bef001", [])
    async with client(server) as other:  # another integration: a job of the same size
        foreign = await other.bulk_import("Bef001", profiles("o", 40))
    server.admin.faults(error_rate=1.0, statuses=[503], max_injections=1, endpoints=[BULK])
    async with client(server) as api:
        submitted = await api.bulk_import("Bef001", profiles("d", 40))  # refused, looked up
        results = await api.wait_for_jobs([*foreign.job_ids, *submitted.job_ids])
    assert not set(foreign.job_ids) & set(submitted.job_ids)  # the foreign job is not claimed
    assert sum(r.completed for r in results) == 80
    assert server.admin.members("Bef001") == set(emails("o", 40) + emails("d", 40))


@pytest.mark.parametrize("effect", [524, "drop"])
async def test_a_list_create_whose_answer_was_lost_after_its_effect_makes_one_list(
    server: SandboxServer, effect: int | str
) -> None:
    server.admin.faults(
        after_effect_rate=1.0,
        after_effect_statuses=[effect],
        max_injections=1,
        endpoints=[CREATE_LIST],
    )
    async with client(server) as api:
        made = await api.create_list("Lost answer list")
        again = await api.get_list(made.id)
    assert again.name == "Lost answer list"
    assert lists_named(server, "Lost answer list") == 1  # main: 2 lists (or an error)
    assert server.admin.stats()["requests"][CREATE_LIST] == 1


async def test_a_list_create_refused_before_its_effect_is_sent_again(
    server: SandboxServer,
) -> None:
    server.admin.faults(error_rate=1.0, statuses=[503], max_injections=1, endpoints=[CREATE_LIST])
    async with client(server) as api:
        made = await api.create_list("Retried list")
        assert (await api.get_list(made.id)).name == "Retried list"
    assert lists_named(server, "Retried list") == 1
    assert server.admin.stats()["requests"][CREATE_LIST] == 2
