"""Validates one document against its kind's JSON Schema; each error becomes a located Problem.

Messages are written here, never copied from jsonschema, so that no offending value that looks
like a secret (or a full email address) is ever echoed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from reconciler.config import codes
from reconciler.config.schema import kind_schema
from reconciler.config.secrets import looks_secret, redact, safe_value
from reconciler.config.yamlsafe import PathKey, YamlDocument
from reconciler.errors import Problem
from reconciler.models import ENV_NAME_PATTERN, LIST_ID_PATTERN, NAME_PATTERN, PERCENT_PATTERN

PATTERN_HINTS = {
    NAME_PATTERN: "names use letters, digits, '.', '_' and '-' (at most 64), starting with a "
    "letter or digit",
    LIST_ID_PATTERN: "a Klaviyo list id is six letters or digits, e.g. Y6nRLr (Lists > list "
    "settings in Klaviyo)",
    ENV_NAME_PATTERN: "an environment variable name: letters, digits and '_', not starting "
    "with a digit",
    PERCENT_PATTERN: "a positive count such as 500, or a percentage such as 30% (0-100)",
}
TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(kind_schema(kind), format_checker=FormatChecker())


def schema_problems(document: YamlDocument, kind: str) -> list[Problem]:
    """Every schema violation of ``document`` (whose ``kind`` is known), located, deduplicated."""
    problems: list[Problem] = []
    for error in _validator(kind).iter_errors(document.data):
        for problem in _explain(document, error):
            if problem not in problems:
                problems.append(problem)
    return problems


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def where(path: Sequence[str | int]) -> str:
    """``limits.max_removals`` / ``admins[2]`` / ``the document``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"`{text}`" if text else "the document"


def _explain(document: YamlDocument, error: ValidationError) -> list[Problem]:
    path: PathKey = tuple(error.absolute_path)
    validator = str(error.validator)
    if validator in ("anyOf", "oneOf"):
        return _explain_alternatives(document, error)
    if validator == "additionalProperties" and error.validator_value is False:
        return _unknown_keys(document, error, path)
    if validator == "required":
        return _missing_keys(document, error, path)
    if validator == "type":
        expected = _as_list(error.validator_value)
        return [_wrong_type(document, path, expected, error.instance, _description(error))]
    return [_invalid_value(document, error, path)]


def _explain_alternatives(document: YamlDocument, error: ValidationError) -> list[Problem]:
    """anyOf/oneOf: report the branch the value was meant for, else a type mismatch."""
    path: PathKey = tuple(error.absolute_path)
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    for subs in branches.values():
        if any(not _is_shape_error(sub, path) for sub in subs):
            return [p for sub in subs for p in _explain(document, sub)]
    expected = [t for subs in branches.values() for sub in subs for t in _types_of(sub)]
    return [_wrong_type(document, path, expected, error.instance, _description(error))]


def _is_shape_error(error: ValidationError, path: PathKey) -> bool:
    return tuple(error.absolute_path) == path and error.validator in ("type", "const")


def _types_of(error: ValidationError) -> list[str]:
    if error.validator == "type":
        return _as_list(error.validator_value)
    return [json_type(error.validator_value)] if error.validator == "const" else []


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _wrong_type(
    document: YamlDocument, path: PathKey, expected: Iterable[str], value: object, hint: str
) -> Problem:
    expected = list(expected)
    names = [TYPE_NAMES.get(t, t) for t in dict.fromkeys(expected) if t != "null"]
    if path and path[-1] == "api_key":
        hint = "declare `api_key: {env: NAME}` and set the environment variable NAME"
    if "string" in expected and json_type(value) in ("integer", "number", "boolean"):
        hint = f"{hint} Put the value in quotes to make it text.".strip()
    message = f"{where(path)} must be {' or '.join(names) or 'empty'}, not {_type_of(value)}"
    return _problem(document, path, codes.WRONG_TYPE, message, hint)


def _type_of(value: object) -> str:
    return TYPE_NAMES[json_type(value)]


def _unknown_keys(document: YamlDocument, error: ValidationError, path: PathKey) -> list[Problem]:
    known = list(_schema_of(error).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    problems = []
    for key in instance:
        if key in known:
            continue
        mark = document.key_at((*path, key))
        inside = f" in {where(path)}" if path else ""
        problems.append(
            Problem(
                document.file,
                mark.line,
                mark.column,
                codes.UNKNOWN_KEY,
                f"unknown key `{_show_key(key)}`{inside}",
                did_you_mean(key, known) or f"allowed keys: {', '.join(known)}",
            )
        )
    return problems


def _show_key(key: str) -> str:
    return "pk_***" if looks_secret(key) else redact(key[:60])


def _closest(value: str, choices: Iterable[str]) -> str:
    options = list(choices)
    normalised = value.replace("-", "_").replace(" ", "_").lower()
    exact = [c for c in options if c.lower() == normalised]
    close = exact or difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return close[0] if close else ""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``did you mean `list_id`?`` for the closest choice, or ''."""
    close = _closest(value, choices)
    return f"did you mean `{close}`?" if close else ""


def _missing_keys(document: YamlDocument, error: ValidationError, path: PathKey) -> list[Problem]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    properties = _schema_of(error).get("properties", {})
    problems = []
    suggested = {_closest(k, properties) for k in instance if k not in properties}
    for key in _as_list(error.validator_value):
        if key not in instance and key not in suggested:  # a typo: reported as unknown key
            hint = str(properties.get(key, {}).get("description", ""))
            message = f"{where(path)} is missing the required key `{key}`"
            problems.append(_problem(document, path, codes.MISSING_KEY, message, hint))
    return problems


def _invalid_value(document: YamlDocument, error: ValidationError, path: PathKey) -> Problem:
    field = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    shown = safe_value(error.instance, field)
    got = f" (got {shown})" if shown else ""
    validator, expected = str(error.validator), error.validator_value
    hint = _description(error)
    if validator == "pattern":
        message = f"{where(path)} is not valid{got}"
        hint = PATTERN_HINTS.get(str(expected), hint)
    elif validator in ("enum", "const"):
        choices = [str(c) for c in _as_list(expected)]
        message = f"{where(path)} must be {' or '.join(choices)}{got}"
        if isinstance(error.instance, str):
            hint = did_you_mean(error.instance, choices) or hint
    elif validator in ("exclusiveMinimum", "minimum"):
        bound = "greater than" if validator == "exclusiveMinimum" else "at least"
        message = f"{where(path)} must be {bound} {expected}{got}"
    elif validator in ("minLength", "minItems", "minProperties"):
        message = f"{where(path)} must not be empty"
    elif validator == "format":
        message = f"{where(path)} is not a valid {expected}{got}"
        hint = "write dates as YYYY-MM-DD" if expected == "date" else hint
    else:
        message = f"{where(path)} does not satisfy `{validator}: {expected}`"
    return _problem(document, path, codes.INVALID_VALUE, message, hint)


def _schema_of(error: ValidationError) -> dict[str, Any]:
    return dict(error.schema) if isinstance(error.schema, Mapping) else {}


def _description(error: ValidationError) -> str:
    current: Any = error
    while isinstance(current, ValidationError):
        schema = _schema_of(current)
        if "description" in schema:
            return str(schema["description"])
        current = current.parent
    return ""


def _problem(document: YamlDocument, path: PathKey, code: str, message: str, hint: str) -> Problem:
    mark = document.at(path)
    return Problem(document.file, mark.line, mark.column, code, message, hint)
