"""Literal secrets in declarations: find them, and keep them (and emails) out of every message."""

from __future__ import annotations

import re

from reconciler.emails import mask_text

# A Klaviyo private API key: ``pk_`` then at least 20 letters/digits (real ones: 34 hex digits).
PRIVATE_KEY = re.compile(r"pk_[A-Za-z0-9]{20,}")
_SECRET_WORDS = ("api_key", "password", "secret", "token", "url")
MAX_ECHO = 40


def find_keys(text: str) -> list[tuple[int, int]]:
    """1-based (line, column) of every literal private key in ``text``."""
    found = []
    for match in PRIVATE_KEY.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        found.append((line, column))
    return found


def looks_secret(value: str) -> bool:
    return PRIVATE_KEY.search(value) is not None


def redact(text: str) -> str:
    """``text`` with private keys replaced, email addresses and phone numbers masked."""
    return mask_text(PRIVATE_KEY.sub("pk_***", text))


def safe_value(value: object, field: str = "") -> str:
    """A short, secret-free rendering of a user value for a message, or '' when it must not show."""
    if any(word in field.lower() for word in _SECRET_WORDS):
        return ""
    if isinstance(value, str):
        if looks_secret(value):
            return ""
        shown = value if len(value) <= MAX_ECHO else value[: MAX_ECHO - 3] + "..."
        return repr(redact(shown))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else ""
