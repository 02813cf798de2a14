"""Keeps email addresses out of the journal: every free-text value passes through here."""

from __future__ import annotations

import re

from reconciler.emails import mask_email

# Anything shaped like local@domain (a domain without a dot included): masked, not judged.
_EMAIL_SHAPED = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")


def redact(text: str) -> str:
    """``text`` with every email-shaped token masked (``jane@x.com`` -> ``j***@x.com``)."""
    return _EMAIL_SHAPED.sub(lambda m: mask_email(m.group(0)), text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)
