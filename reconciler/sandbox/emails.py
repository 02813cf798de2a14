"""The sandbox's own email rules (never the client's: the two may disagree, as in production).

Validity is judged by the ``email-validator`` library with deliverability (DNS) checks off:
Klaviyo rejects malformed addresses at request time and does not look the domain up then.
Profiles are keyed by the address trimmed and lower-cased: Klaviyo matches emails without
regard to case.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# Top-level labels of RFC 6761 special-use names: an address ending in one is left to the library.
_SPECIAL_TLDS = "|".join(
    sorted({re.escape(name.rsplit(".", 1)[-1]) for name in SPECIAL_USE_DOMAIN_NAMES})
)
# A subset of addresses the library provably accepts (checked by a property test), judged
# without it because a bulk import carries up to 10,000 of them: plain ASCII atoms, no dot
# runs, local part up to 64 characters, hyphen-inner domain labels up to 63, an alphabetic
# top-level domain that is not special-use. Everything else goes to the library.
_PLAIN = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9]+(?:[._+-][a-z0-9]+)*@"
    r"(?:(?=[a-z0-9-]{1,63}\.)[a-z0-9]+(?:-[a-z0-9]+)*\.)+"
    rf"(?!(?:{_SPECIAL_TLDS})$)[a-z]{{2,63}}",
    re.ASCII,
)


def email_key(email: str) -> str:
    """The form a profile is found by (trimmed, lower-cased)."""
    return email.strip().lower()


def valid_email(value: str) -> str | None:
    """``value`` as the sandbox keys it, or None when Klaviyo would refuse it."""
    candidate = value.strip()
    if not candidate:
        return None
    key = email_key(candidate)
    if len(key) <= 254 and _PLAIN.fullmatch(key):
        return key
    try:
        validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return key


def checked_email(value: object) -> str | None:
    """Like :func:`valid_email` for any JSON value (non-strings are invalid)."""
    return valid_email(value) if isinstance(value, str) else None


def masked(value: object) -> str:
    """An address safe to show in an admin error: first character and domain only."""
    text = str(value)
    local, at, domain = text.partition("@")
    return f"{local[:1]}***@{domain}" if at else "***"
