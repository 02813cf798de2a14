"""Nothing that creates is retried blindly (issue 18; issue 17 item 4), over a real socket.

A bulk import POST or a list create whose answer is lost (the connection dropped, or 503, 504,
524, which Klaviyo can send after the write took effect) is looked up before it is sent again;
a lost bulk submission is matched to its job by content (its count and a sample of its emails),
never by size alone, so two slices of one size in flight are never taken for each other.

On main before this change: the two-slices test returned one job id twice (the second slice's
job was never recorded, its profiles not counted); a 504 or 524 after the effect made the POST
go out again (two jobs, two lists); a dropped list create was an error.
"""

from __future__ import annotations

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
