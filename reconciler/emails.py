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


# Masking. One implementation for every message, journal entry and rendering.
#
# An address keeps its domain and shows of its local part the first character, the last one
# (only when the local part has 5 characters or more) and its length class as the number of
# stars: ``jane@x.com`` -> ``j***@x.com`` (1-4), ``alice@x.com`` -> ``a***e@x.com`` (5-8),
# ``christopher@x.com`` -> ``c****r@x.com`` (9-16), 17 or more -> ``a*****z@x.com``.
_CLASSES = ((4, 3), (8, 3), (16, 4))
_MASKED_LOCAL = re.compile(r".\*{3,5}[^*]?|\**")
# In free text: an address is a quoted local part then '@' and a domain, or found inside a
# token (a run of characters no address syntax separates) holding '@': each '@' there is an
# address whose local part is what precedes it (back to the token's start or the previous
# address's domain) and whose domain is what follows (any script, xn-- labels, no dot needed:
# ``jane@localhost``, or an IP literal). Tokens are found in one linear pass.
_LITERAL = r"\[[^\]\s@]*\]"
_DOMAIN = rf"(?:{_LITERAL}|[\w-]+(?:\.[\w-]+)*)"
_DOMAIN_AT_START = re.compile(_DOMAIN)
_LITERAL_AT_START = re.compile(_LITERAL)
_QUOTED_ADDRESS = re.compile(r'"(?:[^"\\\r\n]|\\.)*"@' + _DOMAIN)
_TOKEN_CHAR = r'[^\s"(),:;<>\[\]\\]'
_TOKEN_WITH_AT = re.compile(rf"(?<!{_TOKEN_CHAR})(?={_TOKEN_CHAR}*@)(?:@{_LITERAL}|{_TOKEN_CHAR})+")
_QUOTES = "'`/"  # not part of an address when they lead a token (quotes, a URL's //)
# Phone numbers: +E.164 (separators allowed), North American 3-3-4 with separators or
# parentheses, and national forms with a trunk 0; digit counts are checked in _mask_phone.
_PHONE_IN_TEXT = re.compile(
    r"(?<![\w+*])(?:"
    r"\+\d[\d\s().-]{5,22}\d"
    r"|\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}"
    r"|0\d{1,4}(?:[\s./-]?\d{2,4}){1,4}"
    r")(?![\w*])"
)


def mask_email(value: object) -> str:
    """A recognisable, non-reversible form of an address (see above); non-addresses whole."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return "(empty)"
    local, at, domain = text.rpartition("@")
    core = local.strip('"') if len(local) > 1 else local
    if not at or not core or not domain:
        return f"{text[0]}*** (not an email)"
    return f"{_mask_local(core)}@{domain}"


def _mask_local(local: str) -> str:
    for longest, stars in _CLASSES:
        if len(local) <= longest:
            return local[0] + "*" * stars + ("" if longest == 4 else local[-1])
    return f"{local[0]}*****{local[-1]}"


def mask_text(text: str) -> str:
    """``text`` with every email address and phone number masked (messages, journal, output).

    Over-masking is preferred to a leak: anything shaped like ``local@domain`` is masked, and
    what is already masked stays as it is.
    """
    text = _QUOTED_ADDRESS.sub(lambda m: mask_email(m.group(0)), text)
    text = _TOKEN_WITH_AT.sub(lambda m: _mask_token(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(_mask_phone, text)


# The name the source readers use for the same function.
mask_emails_in = mask_text


def _mask_token(token: str) -> str:
    """Every address in ``token`` masked: ``a@x.com/b@y.org`` holds two."""
    parts = token.split("@")
    out, local = [], parts[0]
    for part in parts[1:]:
        if not local:  # no address ends here: what follows is the next one's local part
            literal = _LITERAL_AT_START.match(part)  # (an IP literal belongs to no address)
            skip = literal.end() if literal else 0
            out.append("@" + part[:skip])
            local = part[skip:]
            continue
        found = _DOMAIN_AT_START.match(part)
        domain = found.group(0) if found else ""
        out.append(_mask_pair(local, domain))
        local = part[len(domain) :]
    out.append(local)
    return "".join(out)


def _mask_pair(local: str, domain: str) -> str:
    lead = len(local) - len(local.lstrip(_QUOTES))
    if not domain or lead == len(local) or _MASKED_LOCAL.fullmatch(local[lead:]):
        return f"{local}@{domain}"  # nothing of an address to hide, or masked already
    return local[:lead] + mask_email(f"{local[lead:]}@{domain}")


def _mask_phone(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = sum(ch.isdigit() for ch in token)
    if digits < 7 or (token.startswith("0") and digits < 9):
        return token
    kept, out = 0, []
    for ch in reversed(token):
        if ch.isdigit():
            kept += 1
            out.append(ch if kept <= 2 else "*")
        else:
            out.append(ch)
    return "".join(reversed(out))
