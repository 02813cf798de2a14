"""What the engine needs of a destination, and the registry that picks one by connection type.

A destination adapter implements :class:`Destination` for one account and is an async context
manager (leaving it closes its connections). The engine reaches every adapter through
:data:`DESTINATIONS` only: ``Connection.type`` -> a factory ``(connection, settings)``. The
anchor is pre-commit's ``Language`` protocol with its ``languages`` dict.

Adapters return the values of :mod:`reconciler.values` and raise
:class:`~reconciler.errors.DestinationError` subclasses (``DestinationNotFound`` for an
unknown list, ``ConnectionUnusable`` for credentials that cannot be used).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

from reconciler.klaviyo.destination import open_klaviyo
from reconciler.models import Connection
from reconciler.values import (
    DestinationFacts,
    DestinationSettings,
    ImportSubmission,
    JobResult,
    JobStatus,
    ListInfo,
    ListMembers,
    ProfileInput,
)


class Destination(Protocol):
    """One account of a destination, as plan and apply use it.

    ``facts`` declares the sizes and rate tiers the plan's estimate and the stages' slices
    are computed from. The marketing options add methods here (subscribe, update) with the
    stages that call them; an adapter that lacks one refuses the option at plan time.
    """

    @property
    def facts(self) -> DestinationFacts: ...

    async def verify(self) -> str:
        """The id of the account the credentials reach (raises if they are refused)."""
        ...

    async def list_info(self, list_id: str, *, with_count: bool = False) -> ListInfo:
        """The list's name, and its member count if asked (DestinationNotFound if there is
        no such list)."""
        ...

    async def account_lists(self, *, with_counts: bool = True) -> list[ListInfo]:
        """Every list of the account, oldest first (``lists`` and ``import``)."""
        ...

    async def read_members(
        self, list_id: str, *, joined_after: dt.datetime | None = None
    ) -> ListMembers:
        """Every member with an email, or those who joined after ``joined_after``."""
        ...

    async def settle_jobs(self, list_id: str, pending: Sequence[str]) -> list[str]:
        """Wait for the list's running import jobs and the ``pending`` ones recorded by an
        earlier run; the ids of the jobs now finished."""
        ...

    async def add(self, list_id: str, profiles: Sequence[ProfileInput]) -> ImportSubmission:
        """Submit import jobs adding ``profiles`` to the list (they run meanwhile)."""
        ...

    async def wait(
        self, job_ids: Sequence[str], on_progress: Callable[[JobStatus], None]
    ) -> list[JobResult]:
        """Wait until every job finished; their counts and per-profile errors."""
        ...

    async def remove(
        self, list_id: str, profile_ids: Sequence[str], on_chunk: Callable[[int], None]
    ) -> int:
        """Remove members by profile id (never unsubscribes anyone); how many were sent."""
        ...


class OpenableDestination(Destination, Protocol):
    """A destination as its factory returns it: entered once, closed with the run."""

    async def __aenter__(self) -> Destination: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


DestinationFactory = Callable[[Connection, DestinationSettings], OpenableDestination]

DESTINATIONS: dict[str, DestinationFactory] = {
    "klaviyo": open_klaviyo,
}
