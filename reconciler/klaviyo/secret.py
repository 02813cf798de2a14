"""A wrapper that keeps the API key out of reprs, logs and error messages."""

from __future__ import annotations

import hashlib
import unicodedata

from reconciler.klaviyo.errors import KlaviyoConfigError


def key_problem(value: str) -> str | None:
    """Why ``value`` cannot be a private API key, never quoting it; None when it can.

    Only ASCII can travel in an HTTP header: a typographic quote or dash pasted from a document
    is named (it cannot be part of a real key), the key itself never is.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return "it is empty"
    for position, char in enumerate(text, start=1):
        if not char.isascii():
            name = unicodedata.name(char, "a non-ASCII character")
            return f"character {position} is U+{ord(char):04X} {name}, not ASCII (pasted quote?)"
    if any(ch.isspace() for ch in text) or not text.isprintable():
        return "it contains spaces or control characters"
    return None


class ApiKey:
    """A private API key; only :meth:`header_value` reveals it (to build the auth header)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        problem = key_problem(value)
        if problem is not None:
            raise KlaviyoConfigError(
                f"the Klaviyo API key is unusable: {problem}",
                hint="copy the private key again into the variable the connection's api_key.env "
                "names, without quotes or line breaks",
            )
        self._value = value.strip()

    def header_value(self) -> str:
        return f"Klaviyo-API-Key {self._value}"

    @property
    def fingerprint(self) -> str:
        """A short, non-reversible id of the key (for registries and logs)."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"ApiKey(fingerprint={self.fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an ApiKey cannot be pickled")
