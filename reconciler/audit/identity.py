"""Matching people: an Access entry or ``accepted_by`` value against a commit author.

An identity is an email address or a GitHub handle. Matching is case-insensitive; a handle may be
written with or without a leading ``@``; a GitHub no-reply address
(``12345+octocat@users.noreply.github.com``) also counts as the handle ``octocat``.
"""

from __future__ import annotations

from collections.abc import Iterable

NOREPLY_DOMAIN = "users.noreply.github.com"


def identity_keys(value: str) -> frozenset[str]:
    """Every normalised form under which ``value`` is known (email, handle or both)."""
    text = value.strip().casefold()
    if not text:
        return frozenset()
    if "@" in text and not text.startswith("@"):
        local, _, domain = text.rpartition("@")
        if domain == NOREPLY_DOMAIN:
            handle = local.split("+", 1)[-1]
            return frozenset({text, f"handle:{handle}"})
        return frozenset({text})
    return frozenset({f"handle:{text.lstrip('@')}"})


def same_person(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same email address or GitHub handle."""
    return bool(identity_keys(a) & identity_keys(b))


def listed(person: str, entries: Iterable[str]) -> bool:
    """True when ``person`` matches one of ``entries`` (an Access list)."""
    return any(same_person(person, entry) for entry in entries)
