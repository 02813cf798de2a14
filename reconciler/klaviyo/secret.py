"""A wrapper that keeps the API key out of reprs, logs and error messages."""

from __future__ import annotations

import hashlib

from reconciler.klaviyo.errors import KlaviyoConfigError


class ApiKey:
    """A private API key; only :meth:`header_value` reveals it (to build the auth header)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise KlaviyoConfigError(
                "the Klaviyo API key is empty",
                hint="set the environment variable named by the connection's api_key.env",
            )
        if any(ch.isspace() for ch in value.strip()) or not value.strip().isprintable():
            raise KlaviyoConfigError(
                "the Klaviyo API key contains spaces or control characters",
                hint="copy the private key again, without quotes or line breaks",
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
