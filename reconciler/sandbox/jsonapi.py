"""JSON:API plumbing: error objects, responses, cursors, page sizes and links."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from starlette.responses import Response

from reconciler.sandbox.clock import utc_now_us
from reconciler.sandbox.ids import new_ulid

MEDIA_TYPE = "application/vnd.api+json"
Json = dict[str, Any]

TITLES = {
    400: "Invalid input.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request entity too large.",
    415: "Unsupported media type.",
    429: "Request was throttled.",
    500: "A server error occurred.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
}


class ApiError(Exception):
    """An error the sandbox answers with; ``errors`` may hold several error objects."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
        more: list[Json] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = dict(headers or {})
        first = error_object(status, code, detail, pointer=pointer, parameter=parameter)
        self.errors = [first, *(more or [])]

    def response(self) -> Response:
        return json_response({"errors": self.errors}, self.status, self.headers)


def error_object(
    status: int,
    code: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> Json:
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    return {
        "id": new_ulid(utc_now_us() // 1000),
        "status": status,
        "code": code,
        "title": TITLES.get(status, "Error."),
        "detail": detail,
        "source": source,
        "meta": {},
    }


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> ApiError:
    return ApiError(400, "invalid", detail, pointer=pointer, parameter=parameter)


def json_response(
    body: Json, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    content = orjson.dumps(body)
    return Response(content, status_code=status, headers=dict(headers or {}), media_type=MEDIA_TYPE)


def encode_cursor(position: int) -> str:
    raw = json.dumps({"p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The position in a cursor; also accepts a whole ``links.next`` URL (as some SDKs send)."""
    if cursor is None:
        return None
    if "cursor" in cursor:
        found = parse_qs(urlsplit(cursor).query).get("page[cursor]")
        cursor = found[0] if found else cursor
    cursor = cursor.lstrip("=")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))["p"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise invalid("The page cursor is not valid.", parameter="page[cursor]") from exc
    if not isinstance(position, int) or position < 0:
        raise invalid("The page cursor is not valid.", parameter="page[cursor]")
    return position


def page_size(query: Mapping[str, str], default: int, maximum: int) -> int:
    raw = query.get("page[size]")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= maximum:
        raise invalid(
            f"page[size] must be an integer between 1 and {maximum}, got '{raw}'.",
            parameter="page[size]",
        )
    return size


def csv_param(query: Mapping[str, str], name: str, allowed: frozenset[str]) -> list[str] | None:
    raw = query.get(name)
    if raw is None:
        return None
    values = [value.strip() for value in raw.split(",") if value.strip()]
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise invalid(f"'{unknown[0]}' is not a valid value for {name}.", parameter=name)
    return values


def page_links(self_url: str, base: str, query: Mapping[str, str], next_cursor: int | None) -> Json:
    links: Json = {"self": self_url}
    if next_cursor is not None:
        params = {key: value for key, value in query.items() if key != "page[cursor]"}
        params["page[cursor]"] = encode_cursor(next_cursor)
        links["next"] = f"{base}?{urlencode(params)}"
    return links
