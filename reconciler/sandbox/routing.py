"""The API route table: path templates (as the OpenAPI slices spell them), handlers and tiers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.responses import Response

from reconciler.sandbox import routes_lists as lists
from reconciler.sandbox import routes_profiles as profiles
from reconciler.sandbox import routes_subscriptions as subscriptions
from reconciler.sandbox.config import LIST_CREATIONS_PER_DAY, XS, L, M, Tier
from reconciler.sandbox.ratelimit import Limit
from reconciler.sandbox.state import RequestContext

Handler = Callable[[RequestContext], Response]


@dataclass(frozen=True)
class Variant:
    """A query parameter value that moves a request into its own, stricter bucket."""

    parameter: str
    value: str
    limit: Limit


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation: str  # the OpenAPI slice's file stem
    handler: Handler
    limit: Limit
    variants: tuple[Variant, ...] = ()
    scopes: tuple[str, ...] = ()  # the slice's x-klaviyo-scopes
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"

    def bucket(self, query: Mapping[str, str]) -> tuple[str, Limit]:
        for variant in self.variants:
            values = query.get(variant.parameter, "").split(",")
            if variant.value in values:
                return f"{self.endpoint} [{variant.parameter}={variant.value}]", variant.limit
        return self.endpoint, self.limit


def _tier(tier: Tier) -> Limit:
    return Limit(tier)


_PREDICTIVE = Variant("additional-fields[profile]", "predictive_analytics", _tier(M))

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/api/accounts",
        "get_accounts",
        lists.get_accounts,
        _tier(XS),
        scopes=("accounts:read",),
    ),
    Route("GET", "/api/lists", "get_lists", lists.get_lists, _tier(L), scopes=("lists:read",)),
    Route(
        "POST",
        "/api/lists",
        "create_list",
        lists.create_list,
        Limit(M, LIST_CREATIONS_PER_DAY),
        scopes=("lists:write",),
    ),
    Route(
        "GET",
        "/api/lists/{id}",
        "get_list",
        lists.get_list,
        _tier(L),
        (Variant("additional-fields[list]", "profile_count", _tier(XS)),),
        scopes=("lists:read",),
    ),
    Route(
        "GET",
        "/api/lists/{id}/profiles",
        "get_profiles_for_list",
        lists.get_profiles_for_list,
        _tier(L),
        (_PREDICTIVE,),
        scopes=("lists:read", "profiles:read"),
    ),
    Route(
        "GET",
        "/api/lists/{id}/relationships/profiles",
        "get_profile_ids_for_list",
        lists.get_profile_ids_for_list,
        _tier(L),
        (_PREDICTIVE,),
        scopes=("lists:read", "profiles:read"),
    ),
    Route(
        "POST",
        "/api/lists/{id}/relationships/profiles",
        "add_profiles_to_list",
        lists.add_profiles_to_list,
        _tier(M),
        scopes=("lists:write", "profiles:write"),
    ),
    Route(
        "DELETE",
        "/api/lists/{id}/relationships/profiles",
        "remove_profiles_from_list",
        lists.remove_profiles_from_list,
        _tier(M),
        scopes=("lists:write", "profiles:write"),
    ),
    Route(
        "GET",
        "/api/profiles",
        "get_profiles",
        profiles.get_profiles,
        _tier(L),
        (_PREDICTIVE,),
        scopes=("profiles:read",),
    ),
    Route(
        "POST",
        "/api/profile-bulk-import-jobs",
        "bulk_import_profiles",
        profiles.bulk_import_profiles,
        _tier(M),
        scopes=("lists:write", "profiles:write"),
    ),
    Route(
        "GET",
        "/api/profile-bulk-import-jobs",
        "get_bulk_import_profiles_jobs",
        profiles.get_bulk_import_profiles_jobs,
        _tier(M),
        scopes=("lists:read", "profiles:read"),
    ),
    Route(
        "GET",
        "/api/profile-bulk-import-jobs/{job_id}",
        "get_bulk_import_profiles_job",
        profiles.get_bulk_import_profiles_job,
        _tier(M),
        scopes=("lists:read", "profiles:read"),
    ),
    Route(
        "GET",
        "/api/profile-bulk-import-jobs/{id}/import-errors",
        "get_errors_for_bulk_import_profiles_job",
        profiles.get_errors_for_bulk_import_profiles_job,
        _tier(M),
        scopes=("profiles:read",),
    ),
    Route(
        "POST",
        "/api/profile-subscription-bulk-create-jobs",
        "bulk_subscribe_profiles",
        subscriptions.bulk_subscribe_profiles,
        _tier(L),
        scopes=("lists:write", "profiles:write", "subscriptions:write"),
    ),
)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
    """The route for ``method path`` with its path parameters, and the methods the path allows."""
    allowed: list[str] = []
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict(), allowed
        allowed.append(route.method)
    return None, {}, allowed
