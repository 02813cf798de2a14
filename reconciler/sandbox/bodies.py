"""Checks on JSON:API request bodies; each failure is a 400 naming the ``source.pointer``."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.jsonapi import ApiError, invalid

MAX_RELATIONSHIP_IDS = 1000


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
