"""Validate request and response bodies against Klaviyo's OpenAPI slices (the contract).

    from tests.openapi_contract import validate_request, validate_response
    validate_response("get_profiles_for_list", 200, body)
    validate_request("bulk_import_profiles", body)

``operation`` is a slice's file stem in ``<repo>/../shared/klaviyo-openapi/apis``. OpenAPI 3.0's
``nullable`` is turned into JSON Schema's ``null`` type; internal ``$ref``s are resolved with
``referencing``; ``date-time`` and ``uri`` formats are checked. A mismatch raises AssertionError
listing every problem with its JSON path.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SLICES = Path(__file__).resolve().parents[1] / ".." / "shared" / "klaviyo-openapi" / "apis"
_METHODS = ("get", "post", "put", "patch", "delete")
_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return not isinstance(value, str)
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = urlparse(value)
    return bool(parsed.scheme and parsed.netloc)


def validate_response(operation: str, status: int, body: dict[str, Any] | None) -> None:
    """Assert that ``body`` is what ``operation`` documents for HTTP ``status``."""
    responses = _operation(operation)["responses"]
    key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
    if key is None:
        raise AssertionError(
            f"{operation}: status {status} is not documented ({sorted(responses)})"
        )
    content = _resolve(operation, responses[key]).get("content")
    if not content:
        if body:
            raise AssertionError(f"{operation}: status {status} has no body, got {body!r:.200}")
        return
    media = next(iter(content))
    pointer = f"/paths/{_path_key(operation)}/{_method(operation)}/responses/{key}"
    target = responses[key]
    if "$ref" in target:
        pointer = target["$ref"].lstrip("#")
    _check(operation, f"{pointer}/content/{_escape(media)}/schema", body, f"{status} response")


def validate_request(operation: str, body: dict[str, Any]) -> None:
    """Assert that ``body`` is a valid request body for ``operation``."""
    request = _operation(operation).get("requestBody")
    if request is None:
        raise AssertionError(f"{operation} takes no request body")
    media = next(iter(request["content"]))
    pointer = f"/paths/{_path_key(operation)}/{_method(operation)}/requestBody"
    _check(operation, f"{pointer}/content/{_escape(media)}/schema", body, "request")


def _check(operation: str, pointer: str, body: Any, what: str) -> None:
    validator = _validator(operation, pointer)
    problems = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [f"- at {e.json_path}: {e.message[:300]}" for e in problems[:20]]
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise AssertionError(
            f"{operation} {what} does not match the slice:\n" + "\n".join(lines) + more
        )


@cache
def _validator(operation: str, pointer: str) -> Draft202012Validator:
    uri = f"urn:klaviyo:{operation}"
    resource = Resource.from_contents(_document(operation), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(uri, resource)
    return Draft202012Validator(
        {"$ref": f"{uri}#{pointer}"}, registry=registry, format_checker=_FORMATS
    )


@cache
def _document(operation: str) -> dict[str, Any]:
    path = SLICES / f"{operation}.json"
    if not path.is_file():
        known = sorted(p.stem for p in SLICES.glob("*.json"))
        raise AssertionError(f"no OpenAPI slice '{operation}' in {SLICES} (known: {known})")
    document: dict[str, Any] = _nullable_to_null(json.loads(path.read_text()))
    return document


def _operation(operation: str) -> dict[str, Any]:
    found: dict[str, Any] = _document(operation)["paths"][_raw_path(operation)][_method(operation)]
    return found


def _raw_path(operation: str) -> str:
    paths = _document(operation)["paths"]
    if len(paths) != 1:
        raise AssertionError(f"slice {operation} should hold exactly one path")
    return str(next(iter(paths)))


def _method(operation: str) -> str:
    item = _document(operation)["paths"][_raw_path(operation)]
    return next(m for m in _METHODS if m in item)


def _path_key(operation: str) -> str:
    return _escape(_raw_path(operation))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _resolve(operation: str, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = _document(operation)
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _nullable_to_null(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema that also accepts ``null``."""
    if isinstance(node, list):
        return [_nullable_to_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _nullable_to_null(v) for k, v in node.items() if k != "nullable"}
    if not node.get("nullable"):
        return converted
    if "$ref" in converted:
        return {"anyOf": [{"$ref": converted["$ref"]}, {"type": "null"}]}
    if isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}
