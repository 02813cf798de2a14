"""Small JSON:API helpers: body encoding, cursor links, filter values, timestamps."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import httpx
import orjson

from reconciler.klaviyo.errors import KlaviyoError
from reconciler.values import EPOCH

_MICRO = dt.timedelta(microseconds=1)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(body: object) -> bytes:
    """Compact UTF-8 JSON, the exact bytes sent (so sizes can be measured).

    orjson encodes a profile about ten times faster than the standard library; values it does
    not take (integers beyond 64 bits, mapping keys that are not strings) go through the
    standard encoder, which gives the same compact form."""
    try:
        # orjson's bytes keep the 4 KB buffer they were written into: a copy is exact-sized
        # (200,000 encoded profiles would otherwise hold 800 MB) and costs less than it saves
        return bytes(memoryview(orjson.dumps(body)))
    except TypeError:
        return _ENCODER.encode(body).encode()


def decode(content: bytes) -> Any:
    """A response body's JSON (UTF-8, as Klaviyo sends); ValueError if it is not JSON."""
    return orjson.loads(content)


def document(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    """The response's JSON object, or a KlaviyoError naming the call."""
    try:
        body = decode(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise KlaviyoError(
            f"expected a JSON:API document, got {response.headers.get('content-type', '?')}",
            method=method,
            path=path,
            status=response.status_code,
        )
    return body


def next_link(body: Mapping[str, Any], base_url: str) -> httpx.URL | None:
    """``links.next`` as a path+query on our own base URL (never another host).

    A link to the base URL's own origin (the usual case) is returned as parsed: httpx takes a
    ready URL as it is, where a string is parsed again twice (long cursor links, every page)."""
    links = body.get("links")
    raw = links.get("next") if isinstance(links, dict) else None
    if not isinstance(raw, str) or not raw:
        return None
    url = httpx.URL(raw)
    base = _base(base_url)
    if url.is_absolute_url and url.host != base.host:
        raise KlaviyoError(f"refusing to follow a pagination link to another host ({url.host})")
    same_origin = url.is_absolute_url and (url.scheme, url.port) == (base.scheme, base.port)
    if same_origin and base.raw_path in (b"", b"/"):
        return url
    return httpx.URL(url.raw_path.decode("ascii"))


@lru_cache(maxsize=16)
def _base(base_url: str) -> httpx.URL:
    return httpx.URL(base_url)


def data_list(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def data_object(body: Mapping[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def attributes(resource: Mapping[str, Any]) -> dict[str, Any]:
    attrs = resource.get("attributes")
    return attrs if isinstance(attrs, dict) else {}


def related_ids(resource: Mapping[str, Any], name: str) -> list[str] | None:
    """Ids in ``relationships.<name>.data``; None when the response does not include them."""
    relationships = resource.get("relationships")
    rel = relationships.get(name) if isinstance(relationships, dict) else None
    data = rel.get("data") if isinstance(rel, dict) else None
    if not isinstance(data, list):
        return None
    return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]


def parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def to_micros(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - EPOCH) // _MICRO


def filter_time(micros: int, *, round_up: bool = False) -> str:
    """An unquoted filter date-time in a precision Klaviyo documents (milliseconds):
    ``2026-01-01T00:00:00.123Z``, rounded down (an upper bound: up). A lower bound rounded
    down and an upper bound rounded up widen a range by less than a millisecond: a few members
    may be read twice (the reads keep each profile once), none is ever left out."""
    if round_up:
        micros += -micros % 1000
    moment = EPOCH + dt.timedelta(microseconds=micros - micros % 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def quoted_list(values: Sequence[str]) -> str:
    return "[" + ",".join(f'"{value}"' for value in values) + "]"
