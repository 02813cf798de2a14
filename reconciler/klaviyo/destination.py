"""The Klaviyo adapter: the engine's ``Destination`` protocol over one verified KlaviyoClient.

Chosen by ``Connection.type == "klaviyo"`` through the engine's registry
(``reconciler.engine.destination.DESTINATIONS``). It resolves the key from the environment,
speaks to the client, and returns the neutral values of :mod:`reconciler.values`; the errors
it raises are :class:`~reconciler.errors.DestinationError` subclasses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable, Sequence

from reconciler.errors import ConnectionUnusable
from reconciler.klaviyo.client import KlaviyoClient
from reconciler.klaviyo.facts import FACTS, JOB_POLL_SECONDS
from reconciler.klaviyo.pacing import PacerRegistry
from reconciler.klaviyo.secret import key_problem
from reconciler.klaviyo.transport.http import DEFAULT_BASE_URL
from reconciler.models import Connection, KlaviyoConnection
from reconciler.values import (
    ChannelConsent,
    DestinationFacts,
    DestinationSettings,
    ImportSubmission,
    JobResult,
    JobStatus,
    ListInfo,
    ListMembers,
    ProfileRows,
    SettledJobs,
    Subscription,
)

PACERS = "klaviyo.pacers"


def api_key_for(connection: KlaviyoConnection, settings: DestinationSettings) -> str:
    """The API key from the environment variable the connection names."""
    name = connection.api_key.env
    value = settings.env.get(name) or os.environ.get(name)
    if not value:
        raise ConnectionUnusable(
            f"environment variable {name} is not set (export {name}=<your Klaviyo private API key>)"
        )
    if (problem := key_problem(value)) is not None:
        raise ConnectionUnusable(f"environment variable {name} holds no usable API key: {problem}")
    return value


def open_klaviyo(connection: Connection, settings: DestinationSettings) -> KlaviyoDestination:
    """The registry's factory: a client for the connection's key and base URL (not verified),
    paced with the run's pacers (clients of one account in one run share one budget)."""
    if not isinstance(connection, KlaviyoConnection):
        raise ConnectionUnusable(f"connection '{connection.name}' is not a Klaviyo connection")
    base_url = settings.base_url or connection.base_url or DEFAULT_BASE_URL
    key = api_key_for(connection, settings)
    client = KlaviyoClient(
        key,
        base_url=base_url,
        time_scale=settings.time_scale,
        pacers=run_pacers(settings),
        max_wait=settings.max_wait,
    )
    return KlaviyoDestination(client, job_timeout=settings.job_timeout)


def run_pacers(settings: DestinationSettings) -> PacerRegistry:
    """The pacer registry of the run ``settings`` belong to (created on first use)."""
    found = settings.run_shared.get(PACERS)
    if not isinstance(found, PacerRegistry):
        found = settings.run_shared[PACERS] = PacerRegistry()
    return found


class KlaviyoDestination:
    """One Klaviyo account over ``client`` (closing it closes the client)."""

    facts: DestinationFacts = FACTS

    def __init__(self, client: KlaviyoClient, *, job_timeout: float | None = None) -> None:
        self.client = client
        self.job_timeout = job_timeout

    async def aclose(self) -> None:
        await self.client.aclose()

    def interrupt_on(self, event: asyncio.Event | None) -> None:
        self.client.interrupt_on(event)

    async def verify(self) -> str:
        return (await self.client.verify_key()).id

    async def list_info(self, list_id: str, *, with_count: bool = False) -> ListInfo:
        return await self.client.get_list(list_id, with_count=with_count)

    async def account_lists(self, *, with_counts: bool = True) -> list[ListInfo]:
        found = await self.client.get_lists(with_counts=with_counts)
        return [ListInfo(a.id, a.name, a.profile_count, a.created) for a in found]

    async def read_members(
        self,
        list_id: str,
        *,
        joined_after: dt.datetime | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> ListMembers:
        return await self.client.read_member_columns(
            list_id, joined_after=joined_after, on_page=on_page
        )

    async def settle_jobs(self, list_id: str, pending: Sequence[str]) -> SettledJobs:
        running = set(await self.client.running_jobs(list_id))
        running.update(pending)
        if not running:
            return SettledJobs()
        results = await self.client.wait_for_jobs(sorted(running), timeout=self.job_timeout)
        ours = [r for r in results if r.job_id in set(pending) and not r.gone]
        return SettledJobs(
            finished=tuple(r.job_id for r in results),
            gone=tuple(r.job_id for r in results if r.gone),
            credited=tuple(r.job_id for r in ours),
            completed=sum(r.completed for r in ours),
        )

    async def add(self, list_id: str, profiles: ProfileRows) -> ImportSubmission:
        return await self.client.bulk_import(list_id, profiles)

    async def wait(
        self, job_ids: Sequence[str], on_progress: Callable[[JobStatus], None]
    ) -> list[JobResult]:
        return await self.client.wait_for_jobs(
            job_ids, poll_interval=JOB_POLL_SECONDS, on_progress=on_progress
        )

    async def remove(
        self, list_id: str, profile_ids: Sequence[str], on_chunk: Callable[[int], None]
    ) -> int:
        return await self.client.remove_members(list_id, profile_ids, on_chunk=on_chunk)

    async def consents(self, emails: Sequence[str]) -> dict[str, dict[str, ChannelConsent]]:
        return await self.client.read_consents(emails)

    async def subscribe(
        self, list_id: str, items: Sequence[Subscription], *, historical: bool
    ) -> int:
        return await self.client.subscribe(list_id, items, historical=historical)
