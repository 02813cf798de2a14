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


# Masking. One implementation for every message, journal entry and rendering.
#
# An address keeps its domain and shows of its local part the first character, the last one
# (only when the local part has 5 characters or more) and its length class as the number of
# stars: ``jane@x.com`` -> ``j***@x.com`` (1-4), ``alice@x.com`` -> ``a***e@x.com`` (5-8),
# ``christopher@x.com`` -> ``c****r@x.com`` (9-16), 17 or more -> ``a*****z@x.com``.
_CLASSES = ((4, 3), (8, 3), (16, 4))
_MASKED_LOCAL = re.compile(r"[^*]\*{3,5}[^*]?|\**")
# In free text: a quoted local part, or a run of characters no address syntax separates, then
# '@' and a domain (any script, xn-- labels, no dot needed: ``jane@localhost``) or an IP literal.
_LOCAL_IN_TEXT = r'(?:"(?:[^"\\\r\n]|\\.)*"|(?<![^\s@"(),:;<>\[\]\\])[^\s@"(),:;<>\[\]\\]+)'
_DOMAIN_IN_TEXT = r"(?:\[[^\]\s@]*\]|[\w-]+(?:\.[\w-]+)*)"
_EMAIL_IN_TEXT = re.compile(f"{_LOCAL_IN_TEXT}@{_DOMAIN_IN_TEXT}")
_QUOTES = "'`"
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
    return _PHONE_IN_TEXT.sub(_mask_phone, _EMAIL_IN_TEXT.sub(_mask_match, text))


# The name the source readers use for the same function.
mask_emails_in = mask_text


def _mask_match(match: re.Match[str]) -> str:
    token = match.group(0)
    local, _, domain = token.rpartition("@")
    lead = len(local) - len(local.lstrip(_QUOTES))
    if lead == len(local):
        return token  # only quote marks before '@': nothing of an address to hide
    if _MASKED_LOCAL.fullmatch(local[lead:]):
        return token
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
