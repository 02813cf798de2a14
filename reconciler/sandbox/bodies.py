"""Checks on JSON:API request bodies; each failure is a 400 naming the ``source.pointer``."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.jsonapi import ApiError, invalid

MAX_RELATIONSHIP_IDS = 1000
PROFILES_POINTER = "/data/attributes/profiles/data"  # the profiles of a bulk job request


def need_object(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"'{pointer or '/'}' must be an object.", pointer=pointer or "/")
    return value


def need_list(value: Any, pointer: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(f"'{pointer}' must be an array.", pointer=pointer)
    return value


def need_string(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(f"'{pointer}' must be a non-empty string.", pointer=pointer)
    return value


def need_type(resource: dict[str, Any], expected: str, pointer: str) -> None:
    found = resource.get("type")
    if found != expected:
        raise ApiError(
            409 if isinstance(found, str) else 400,
            "conflict" if isinstance(found, str) else "invalid",
            f"'{pointer}/type' must be '{expected}', got {found!r}.",
            pointer=f"{pointer}/type",
        )


def data_of(body: Any) -> Any:
    if body is None:
        raise invalid("A JSON:API request body with 'data' is required.", pointer="/")
    return need_object(body, "").get("data")


def job_attributes(body: Any, job_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The resource of a bulk job request of ``job_type``, and its attributes."""
    resource = need_object(data_of(body), "/data")
    need_type(resource, job_type, "/data")
    return resource, need_object(resource.get("attributes"), "/data/attributes")


def job_profiles(attributes: dict[str, Any], most: int, job: str) -> list[Any]:
    """The profiles of a bulk ``job``'s attributes: 1 to ``most`` of them."""
    profiles = need_object(attributes.get("profiles"), "/data/attributes/profiles")
    items = need_list(profiles.get("data"), PROFILES_POINTER)
    if not 1 <= len(items) <= most:
        raise invalid(
            f"A {job} takes 1 to {most} profiles, got {len(items)}.", pointer=PROFILES_POINTER
        )
    return items


def relationship_ids(body: Any, kind: str) -> list[str]:
    """The ids of ``{"data": [{"type": kind, "id": ...}, ...]}`` (1 to 1,000 of them)."""
    items = need_list(data_of(body), "/data")
    if not items:
        raise invalid("'/data' must hold at least one resource identifier.", pointer="/data")
    if len(items) > MAX_RELATIONSHIP_IDS:
        raise invalid(
            f"At most {MAX_RELATIONSHIP_IDS} profiles may be sent per request, got {len(items)}.",
            pointer="/data",
        )
    ids = []
    for position, item in enumerate(items):
        pointer = f"/data/{position}"
        resource = need_object(item, pointer)
        need_type(resource, kind, pointer)
        ids.append(need_string(resource.get("id"), f"{pointer}/id"))
    return ids
