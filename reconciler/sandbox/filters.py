"""Klaviyo's ``filter`` query parameter: ``op(field,value)``, combined by ``and(...)`` or commas.

Values are double- or single-quoted strings, lists ``[...]``, unquoted ISO 8601 date-times,
numbers, ``true``/``false`` and ``null``. Every syntax error becomes a 400 naming ``filter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox.jsonapi import ApiError, invalid

_STOP = ",)]"


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


def as_datetime(value: Any) -> datetime:
    """A filter value as an aware datetime (accepts datetimes and ISO 8601 strings)."""
    if isinstance(value, datetime):
        return value
    parsed = _parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise _error(f"'{value}' is not an ISO 8601 date-time")
    return parsed


def as_strings(condition: Condition) -> list[str]:
    """The string values of an ``equals`` (one) or ``any`` (a list) condition."""
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    if condition.op == "any" and not isinstance(condition.value, list):
        raise _error(f'any({condition.field},...) needs a list such as ["a","b"]')
    if not all(isinstance(value, str) for value in values):
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
        parsed = _parse_datetime(raw)
        if parsed is None:
            raise _error(f"'{raw}' must be quoted (strings) or be an ISO 8601 date-time")
        return parsed

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
