"""Email normalisation, syntax check and masking: shared by sources, plans and logs."""

from __future__ import annotations

import re

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# The common shape, accepted by one match (every address it takes, the full check takes too).
_PLAIN = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
MAX_EMAIL_LENGTH = 254


def normalise_email(raw: object) -> str | None:
    """Trim and lower-case ``raw``; return None unless it is a practical email address."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    if len(email) <= MAX_EMAIL_LENGTH and _PLAIN.fullmatch(email):
        return email
    if not email or len(email) > MAX_EMAIL_LENGTH or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    if not local or len(local) > 64 or not _LOCAL.fullmatch(local):
        return None
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    return email if _valid_domain(domain) else None


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return False
    return all(_LABEL.fullmatch(label) for label in labels)


def mask_email(value: object) -> str:
    """``jane@example.com`` -> ``j***@example.com``; anything else is masked whole."""
    text = str(value).strip() if value is not None else ""
    if text.count("@") == 1:
        local, domain = text.split("@")
        if local:
            return f"{local[0]}***@{domain}"
    if not text:
        return "(empty)"
    return f"{text[0]}*** (not an email)"


_EMAIL_IN_TEXT = re.compile(r"[^\s@'\"`(),;:<>\[\]{}]+@[^\s@'\"`(),;:<>\[\]{}]+")


def mask_emails_in(text: str) -> str:
    """``text`` with every email-like word masked (for driver and parser error messages)."""
    return _EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group(0)), text)
