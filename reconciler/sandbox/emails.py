"""The sandbox's own email rules (never the client's: the two may disagree, as in production).

Validity is judged by the ``email-validator`` library with deliverability (DNS) checks off:
Klaviyo rejects malformed addresses at request time and does not look the domain up then.
Profiles are keyed by the address trimmed and lower-cased: Klaviyo matches emails without
regard to case.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# A subset of addresses the library provably accepts (checked by a property test), judged
# without it because a bulk import carries up to 10,000 of them: plain ASCII atoms, no dot
# runs, hyphen-inner domain labels, an alphabetic top-level domain.
_PLAIN = re.compile(
    r"[a-z0-9]+(?:[._+-][a-z0-9]+)*@(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)+[a-z]{2,63}", re.ASCII
)
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)


def email_key(email: str) -> str:
    """The form a profile is found by (trimmed, lower-cased)."""
    return email.strip().lower()


def valid_email(value: str) -> str | None:
    """``value`` as the sandbox keys it, or None when Klaviyo would refuse it."""
    candidate = value.strip()
    if not candidate:
        return None
    key = email_key(candidate)
    if len(key) <= 254 and _PLAIN.fullmatch(key) and key.find("@") <= 64 and _ordinary(key):
        return key
    try:
        validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return key


def _ordinary(key: str) -> bool:
    domain = key.rpartition("@")[2]
    labels = domain.split(".")
    if any(len(label) > 63 for label in labels):
        return False
    return not any(domain == name or domain.endswith("." + name) for name in _SPECIAL)


def checked_email(value: object) -> str | None:
    """Like :func:`valid_email` for any JSON value (non-strings are invalid)."""
    return valid_email(value) if isinstance(value, str) else None


def masked(value: object) -> str:
    """An address safe to show in an admin error: first character and domain only."""
    text = str(value)
    local, at, domain = text.partition("@")
    return f"{local[:1]}***@{domain}" if at else "***"
