"""Email normalisation, syntax check and masking: shared by sources, plans and logs."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254  # octets (RFC 5321)
MAX_LOCAL_LENGTH = 64  # octets of the part before the @
# Names of RFC 6761 special-use domains (``.test``, ``.local``...): never deliverable.
SPECIAL_USE_TLDS = tuple(sorted(SPECIAL_USE_DOMAIN_NAMES))
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
# The common shape, accepted by one match; every address it takes, the full check takes too.
_PLAIN = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@"
    r"(?:(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"  # xn-- labels: full check
    rf"(?!(?:{'|'.join(SPECIAL_USE_TLDS)})$)[a-z]{{2,63}}"
)


def normalise_email(raw: object) -> str | None:
    """``raw`` trimmed and lower-cased, or None unless it is a deliverable address's syntax.

    Valid is what RFC 5321 / RFC 6531 allow and Klaviyo takes: internationalised domains in
    either form (``user@example.xn--p1ai``, ``user@пример.рф``) and UTF-8 local parts; no quoted
    local parts, IP literals or special-use domains (checked by ``email-validator``, no DNS).
    Lower-casing never turns an address into another one: a value with a character whose
    lower case belongs to a different upper case (the Kelvin sign ``\u212a`` -> ``k``) is
    refused, so it is reported as invalid, never merged with the real ``k...`` address.
    """
    if not isinstance(raw, str):
        return None
    email = raw.strip()
    if email.isascii():
        email = email.lower()
        if len(email) <= MAX_EMAIL_LENGTH and _PLAIN.fullmatch(email):
            return email
    else:
        folded = lower_without_merging(email)
        if folded is None:
            return None
        email = folded
    return email if is_valid_email(email) else None


def lower_without_merging(text: str) -> str | None:
    """``text.lower()``, or None when some character would become another letter's lower case
    (Kelvin sign, Angstrom sign, dotted capital I...): two addresses would turn into one."""
    for char in text:
        if not char.isascii():
            lower = char.lower()
            if lower != char and lower.upper() != char:
                return None
    return text.lower()


def is_valid_email(email: str) -> bool:
    """Whether ``email`` (already trimmed) is a valid address (syntax only, no DNS).

    The domain's verdict is cached (a segment's addresses share few domains, and IDNA checks
    are slow); an ASCII local part is a dot-atom, anything else is checked by the library."""
    if email.count("@") != 1 or len(email.encode()) > MAX_EMAIL_LENGTH:
        return False
    local, _, domain = email.partition("@")
    if not local or len(local.encode()) > MAX_LOCAL_LENGTH:
        return False
    if local.isascii():
        local_ok = _DOT_ATOM.fullmatch(local) is not None
    else:
        local_ok = _validates(f"{local}@example.com")
    return local_ok and _valid_domain(domain)


@lru_cache(maxsize=65_536)
def _valid_domain(domain: str) -> bool:
    return _validates(f"a@{domain}")


def _validates(email: str) -> bool:
    try:
        validate_email(
            email,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
        )
    except EmailNotValidError:
        return False
    return True


def rejected_form(raw: object) -> str | None:
    """The form a list member with the address ``raw`` would have (trimmed, lower-cased as the
    list reader does), for a value the validator refused: such a member is kept, not removed."""
    if not isinstance(raw, str) or "@" not in raw:
        return None
    return raw.strip().lower()


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
