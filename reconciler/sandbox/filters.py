"""Klaviyo's ``filter`` query parameter: ``op(field,value)``, combined by ``and(...)`` or commas.

Values are double- or single-quoted strings, lists ``[...]``, unquoted ISO 8601 date-times,
numbers, ``true``/``false`` and ``null``. Every syntax error becomes a 400 naming ``filter``.

Date-times are accepted in the forms Klaviyo documents ("Acceptable date and timestamp formats
for profile and event properties" and "Datetimes" on developers.klaviyo.com): a date, or a date
and time to the second or millisecond, ``T`` or a space between them, optionally ``Z`` or an
offset such as ``+03:00``, letters upper-case, and unquoted. ``documented=False`` accepts any
ISO 8601 text, quoted or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox.jsonapi import ApiError, invalid

_STOP = ",)]"
_DOCUMENTED = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d{3})?(?:Z|[+-]\d{2}:\d{2})?)?", re.ASCII
)


class Unquoted(str):
    """An unquoted filter value (a date-time literal), kept as written."""


@dataclass(frozen=True)
class Condition:
    op: str
    field: str
    value: Any


def parse_filter(text: str, allowed: Mapping[str, frozenset[str]]) -> list[Condition]:
    """Parse ``text`` and check each field/operator against ``allowed`` (field -> operators)."""
    conditions = _Parser(text).parse()
    for condition in conditions:
        ops = allowed.get(condition.field)
        if ops is None:
            raise _error(f"filtering on '{condition.field}' is not supported here")
        if condition.op not in ops:
            raise _error(
                f"operator '{condition.op}' is not allowed for '{condition.field}' "
                f"(allowed: {', '.join(sorted(ops))})"
            )
    return conditions


def as_datetime(value: Any, field: str = "", *, documented: bool = True) -> datetime:
    """A filter value as an aware datetime; with ``documented``, only in Klaviyo's forms."""
    if isinstance(value, datetime):
        return value
    text = value if isinstance(value, str) else ""
    if documented and isinstance(value, str) and not isinstance(value, Unquoted):
        # a Klaviyo employee on community.klaviyo.com (thread 14473): "Datetimes should be
        # specified without quotes"; quoted, they are an invalid filter
        raise _error(f"date-times go unquoted: write {field or 'the field'},{value} without quotes")
    if documented and not _DOCUMENTED.fullmatch(text):
        raise _error(
            f"'{value}' is not a date-time Klaviyo accepts for {field or 'this field'} "
            "(use YYYY-MM-DDTHH:MM:SS, optionally .mmm, Z or +HH:MM)"
        )
    parsed = _parse_datetime(text)
    if parsed is None:
        raise _error(f"'{value}' is not an ISO 8601 date-time")
    return parsed


def as_strings(condition: Condition) -> list[str]:
    """The string values of an ``equals`` (one) or ``any`` (a list) condition."""
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    if condition.op == "any" and not isinstance(condition.value, list):
        raise _error(f'any({condition.field},...) needs a list such as ["a","b"]')
    if not all(isinstance(value, str) and not isinstance(value, Unquoted) for value in values):
        raise _error(f"{condition.field} values must be quoted strings")
    return [str(value) for value in values]


def _error(detail: str) -> ApiError:
    return invalid(f"Invalid filter: {detail}.", parameter="filter")


def _parse_datetime(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> list[Condition]:
        if not self.text.strip():
            raise _error("the filter is empty")
        conditions = self._expressions()
        self._skip_spaces()
        if self.pos != len(self.text):
            raise _error(f"unexpected '{self.text[self.pos :]}'")
        return conditions

    def _expressions(self) -> list[Condition]:
        conditions = self._expression()
        while self._peek() == ",":
            self.pos += 1
            conditions += self._expression()
        return conditions

    def _expression(self) -> list[Condition]:
        name = self._word()
        self._expect("(")
        if name == "and":
            conditions = self._expressions()
            self._expect(")")
            return conditions
        if name in ("or", "not"):
            raise _error(f"'{name}(...)' is not supported; combine conditions with and(...)")
        field = self._word()
        self._expect(",")
        value = self._value()
        self._expect(")")
        return [Condition(name, field, value)]

    def _word(self) -> str:
        self._skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "-_."
        ):
            self.pos += 1
        if start == self.pos:
            raise _error(f"expected a name at position {start + 1}")
        return self.text[start : self.pos]

    def _value(self) -> Any:
        char = self._peek()
        if char in ("'", '"'):
            return self._string(char)
        if char == "[":
            return self._list()
        return self._literal()

    def _string(self, quote: str) -> str:
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            raise _error(f"unterminated string starting at position {self.pos + 1}")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def _list(self) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        if self._peek() == "]":
            self.pos += 1
            return items
        items.append(self._value())
        while self._peek() == ",":
            self.pos += 1
            items.append(self._value())
        self._expect("]")
        return items

    def _literal(self) -> Any:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _STOP:
            self.pos += 1
        raw = self.text[start : self.pos].strip()
        known = {"true": True, "false": False, "null": None}
        if raw in known:
            return known[raw]
        for convert in (int, float):
            try:
                return convert(raw)
            except ValueError:
                pass
        if _parse_datetime(raw) is None:
            raise _error(f"'{raw}' must be quoted (strings) or be an ISO 8601 date-time")
        return Unquoted(raw)

    def _peek(self) -> str:
        self._skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            found = self.text[self.pos] if self.pos < len(self.text) else "end of filter"
            raise _error(f"expected '{char}' at position {self.pos + 1}, found '{found}'")
        self.pos += 1

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
