"""Plain values the Klaviyo client returns (dataclasses: a million members must parse fast)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

JobState = Literal["queued", "processing", "complete", "cancelled", "gone"]
# "gone": the server no longer knows the job (404: it expired, or the account was reset)
GONE = "gone"
FINISHED_STATES: frozenset[str] = frozenset({"complete", "cancelled", GONE})


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class KlaviyoList:
    id: str
    name: str
    profile_count: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """One list member: lower-cased email, profile id, when it joined the list."""

    email: str
    profile_id: str
    joined_at: dt.datetime


@dataclass(frozen=True)
class ListMembers:
    """A list's members as aligned Arrow columns: emails (lower-cased), profile ids, and
    ``joined_us`` (when each joined the list: int64 microseconds since the epoch, UTC).

    Members without an email (SMS-only profiles) are not rows: ``without_email`` counts them
    and ``newest_without_email_us`` is the latest of their join times (None without any).
    """

    emails: pa.ChunkedArray  # strings
    profile_ids: pa.ChunkedArray  # strings
    joined_us: pa.ChunkedArray  # int64
    without_email: int = 0
    newest_without_email_us: int | None = None

    @property
    def count(self) -> int:
        """Members with an email (rows)."""
        return len(self.emails)

    @property
    def total(self) -> int:
        """Every member read, with or without an email (what ``profile_count`` counts)."""
        return len(self.emails) + self.without_email

    @property
    def newest_us(self) -> int | None:
        """The latest join time of any member read (None for an empty read)."""
        times = [t for t in (_max(self.joined_us), self.newest_without_email_us) if t is not None]
        return max(times, default=None)


def _max(values: pa.ChunkedArray) -> int | None:
    if len(values) == 0:
        return None
    newest: int = pc.max(values).as_py()
    return newest


@dataclass(frozen=True, slots=True)
class ProfileInput:
    """A profile to import: email plus optional standard attributes and custom properties."""

    email: str
    attributes: Mapping[str, object] = field(default_factory=dict)
    properties: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """A profile Klaviyo (or the client's own check) refused, with the reason."""

    email: str
    reason: str


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A bulk import job's progress, as last polled."""

    job_id: str
    status: str
    total: int
    completed: int
    failed: int

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATES

    @property
    def gone(self) -> bool:
        """The server no longer knows the job (it expired): what it did cannot be read."""
        return self.status == GONE


@dataclass(frozen=True, slots=True)
class JobResult:
    job_id: str
    status: str
    total: int
    completed: int
    failed: int
    errors: list[ImportFailure] = field(default_factory=list)

    @property
    def gone(self) -> bool:
        """The server no longer knows the job (it expired): what it did cannot be read."""
        return self.status == GONE


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
