"""The Klaviyo endpoints the client calls, with their rate tiers (see facts.py and
docs/klaviyo-api.md)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from reconciler.klaviyo.facts import PROFILE_COUNT, XS, L, M
from reconciler.values import Rate

__all__ = ["PROFILE_COUNT", "XS", "Endpoint", "L", "M", "Rate"]


@dataclass(frozen=True)
class Endpoint:
    """One operation: method, path template, rate tier; ``variant`` separates stricter limits."""

    method: str
    template: str
    rate: Rate
    variant: str = ""

    @property
    def key(self) -> str:
        """The stats and pacing key, e.g. ``GET /api/lists/{id}``."""
        base = f"{self.method} {self.template}"
        return f"{base} [{self.variant}]" if self.variant else base

    def path(self, **ids: str) -> str:
        """The concrete path with ids URL-quoted."""
        return self.template.format(**{k: quote(v, safe="") for k, v in ids.items()})


GET_ACCOUNTS = Endpoint("GET", "/api/accounts", XS)
GET_LISTS = Endpoint("GET", "/api/lists", L)
GET_LIST = Endpoint("GET", "/api/lists/{id}", L)
GET_LIST_COUNT = Endpoint("GET", "/api/lists/{id}", PROFILE_COUNT, "profile_count")
CREATE_LIST = Endpoint("POST", "/api/lists", M)
GET_LIST_PROFILES = Endpoint("GET", "/api/lists/{id}/profiles", L)
ADD_TO_LIST = Endpoint("POST", "/api/lists/{id}/relationships/profiles", M)
REMOVE_FROM_LIST = Endpoint("DELETE", "/api/lists/{id}/relationships/profiles", M)
GET_PROFILES = Endpoint("GET", "/api/profiles", L)
CREATE_IMPORT_JOB = Endpoint("POST", "/api/profile-bulk-import-jobs", M)
GET_IMPORT_JOBS = Endpoint("GET", "/api/profile-bulk-import-jobs", M)
GET_IMPORT_JOB = Endpoint("GET", "/api/profile-bulk-import-jobs/{job_id}", M)
SUBSCRIBE_JOB = Endpoint("POST", "/api/profile-subscription-bulk-create-jobs", L)
GET_IMPORT_ERRORS = Endpoint("GET", "/api/profile-bulk-import-jobs/{id}/import-errors", M)
GET_IMPORT_PROFILES = Endpoint("GET", "/api/profile-bulk-import-jobs/{id}/profiles", M)
