"""What the engine needs of a destination, and the registry that picks one by connection type.

A destination adapter implements :class:`Destination` for one account, and ``aclose()``, which
the run calls when it ends (``contextlib.aclosing``). The engine reaches every adapter through
:data:`DESTINATIONS` only: ``Connection.type`` -> a factory ``(connection, settings)``. The
anchor is pre-commit's ``Language`` protocol with its ``languages`` dict.

Adapters return the values of :mod:`reconciler.values` and raise
:class:`~reconciler.errors.DestinationError` subclasses (``DestinationNotFound`` for an
unknown list, ``ConnectionUnusable`` for credentials that cannot be used).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from reconciler import values
from reconciler.klaviyo.destination import open_klaviyo
from reconciler.models import Connection


class Destination(Protocol):
    """One account of a destination, as plan and apply use it.

    ``facts`` declares the sizes and rate tiers the plan's estimate and the stages' slices
    are computed from. The marketing options add methods here (subscribe, update) with the
    stages that call them; an adapter that lacks one refuses the option at plan time.
    """

    @property
    def facts(self) -> values.DestinationFacts: ...

    def interrupt_on(self, event: asyncio.Event | None) -> None:
        """From now on, setting ``event`` ends every wait of the destination at once (a
        throttled request's Retry-After, pacing, job polls): what it waited to send is not
        sent, and the call raises a ``DestinationError``."""
        ...

    async def verify(self) -> str:
        """The id of the account the credentials reach (raises if they are refused)."""
        ...

    async def list_info(self, list_id: str, *, with_count: bool = False) -> values.ListInfo:
        """The list's name, and its member count if asked (DestinationNotFound if there is
        no such list)."""
        ...

    async def account_lists(self, *, with_counts: bool = True) -> list[values.ListInfo]:
        """Every list of the account, oldest first (``lists`` and ``import``)."""
        ...

    async def read_members(
        self,
        list_id: str,
        *,
        joined_after: dt.datetime | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> values.ListMembers:
        """Every member with an email, or those who joined after ``joined_after``;
        ``on_page(n)`` after each page of ``n`` members read."""
        ...

    async def settle_jobs(self, list_id: str, pending: Sequence[str]) -> values.SettledJobs:
        """Wait for the list's running import jobs and the ``pending`` ones recorded by an
        earlier run (bounded by the run's ``job_timeout``: past it, an error naming the jobs);
        the ids of the jobs now finished, and of those the destination no longer knows; of
        the ``pending`` ones finished, their ids and the profiles they imported."""
        ...

    async def add(self, list_id: str, profiles: values.ProfileRows) -> values.ImportSubmission:
        """Submit import jobs adding ``profiles`` to the list (they run meanwhile). The
        profiles are Arrow columns (see ``ProfileRows``) of normalised, unique emails (the
        plan's): an adapter makes Python values of a few at a time (``ProfileRows.inputs``)."""
        ...

    async def wait(
        self, job_ids: Sequence[str], on_progress: Callable[[values.JobStatus], None]
    ) -> list[values.JobResult]:
        """Wait until every job finished; their counts and per-profile errors."""
        ...

    async def remove(
        self, list_id: str, profile_ids: Sequence[str], on_chunk: Callable[[int], None]
    ) -> int:
        """Remove members by profile id (never unsubscribes anyone); how many were sent."""
        ...

    async def consents(self, emails: Sequence[str]) -> dict[str, dict[str, values.ChannelConsent]]:
        """email -> channel ("email", "sms") -> marketing consent, for those of ``emails``
        that have a profile (the plan of a ``subscribe:`` export asks for its candidates)."""
        ...

    async def subscribe(
        self, list_id: str, items: Sequence[values.Subscription], *, historical: bool
    ) -> int:
        """Subscribe ``items`` to their channels and add them to the list (this lifts
        unsubscribe suppressions: the plan has checked each consent is newer); how many."""
        ...


class OpenableDestination(Destination, Protocol):
    """A destination as its factory returns it: the run closes it when it ends."""

    async def aclose(self) -> None: ...


DestinationFactory = Callable[[Connection, values.DestinationSettings], OpenableDestination]

DESTINATIONS: dict[str, DestinationFactory] = {
    "klaviyo": open_klaviyo,
}
