"""Keeps email addresses out of the journal: every free-text value passes through here."""

from __future__ import annotations

from reconciler.emails import mask_text


def redact(text: str) -> str:
    """``text`` with every address and phone number masked (``jane@x.com`` -> ``j***@x.com``)."""
    return mask_text(text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else mask_text(text)
