"""Literal secrets in declarations: find them, and keep them (and emails) out of every message."""

from __future__ import annotations

import re

from reconciler.emails import mask_text

# A Klaviyo private API key: ``pk_`` then at least 20 letters/digits (real ones: 34 hex digits).
PRIVATE_KEY = re.compile(r"pk_[A-Za-z0-9]{20,}")
_SECRET_WORDS = ("api_key", "password", "secret", "token", "url")
# A password written as a setting (libpq conninfo ``password=...``, ODBC ``PWD=...``) or as the
# password of a URL's user info, wherever it sits (a database part can hold either).
_PASSWORD_SETTING = re.compile(
    r"(?i)(?<![\w-])((?:password|passwd|pwd)\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^\s&;,'\"]+)"
)
_USERINFO_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^\s:/@]*:)([^\s/@]+)(@)")
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


def has_password(text: str) -> bool:
    """True when ``text`` holds a password setting or a URL with a password in its user info."""
    return bool(_PASSWORD_SETTING.search(text) or _USERINFO_PASSWORD.search(text))


def hide_passwords(text: str) -> str:
    """``text`` with every password setting and URL user-info password replaced by ``***``."""
    text = _USERINFO_PASSWORD.sub(lambda m: f"{m.group(1)}***{m.group(3)}", text)
    return _PASSWORD_SETTING.sub(lambda m: f"{m.group(1)}***", text)


def hide_secrets(text: str) -> str:
    """``text`` with private keys and passwords replaced (addresses are left to the masker)."""
    return hide_passwords(PRIVATE_KEY.sub("pk_***", text))


def redact(text: str) -> str:
    """``text`` with private keys and passwords replaced, addresses and phone numbers masked."""
    return mask_text(hide_secrets(text))


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
