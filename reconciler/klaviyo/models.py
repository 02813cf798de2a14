"""Plain values the Klaviyo client returns (dataclasses: a million members must parse fast).

The values any destination shares with the engine live in :mod:`reconciler.values`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from reconciler.values import (
    FINISHED_STATES,
    GONE,
    ImportFailure,
    JobResult,
    JobStatus,
    ListInfo,
    ListMembers,
    ProfileInput,
)

JobState = Literal["queued", "processing", "complete", "cancelled", "gone"]

__all__ = [
    "FINISHED_STATES",
    "GONE",
    "Account",
    "ClientStats",
    "EndpointStats",
    "ImportFailure",
    "JobResult",
    "JobState",
    "JobStatus",
    "KlaviyoList",
    "ListMembers",
    "Member",
    "ProfileInput",
]


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str


KlaviyoList = ListInfo  # a list as the client reads it: the value every destination returns


@dataclass(frozen=True, slots=True)
class Member:
    """One list member: lower-cased email, profile id, when it joined the list."""

    email: str
    profile_id: str
    joined_at: dt.datetime


@dataclass(slots=True)
class EndpointStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0


@dataclass(slots=True)
class ClientStats:
    """Requests sent, retries and 429s received, per endpoint ("GET /api/lists/{id}")."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)

    def for_endpoint(self, key: str) -> EndpointStats:
        found = self.endpoints.get(key)
        if found is None:
            found = self.endpoints[key] = EndpointStats()
        return found

    @property
    def requests(self) -> int:
        return sum(e.requests for e in self.endpoints.values())

    @property
    def retries(self) -> int:
        return sum(e.retries for e in self.endpoints.values())

    @property
    def throttled(self) -> int:
        return sum(e.throttled for e in self.endpoints.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            key: {"requests": e.requests, "retries": e.retries, "throttled": e.throttled}
            for key, e in sorted(self.endpoints.items())
        }
