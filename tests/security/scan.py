"""Searches text and the state database's journal for secrets and full email addresses."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from reconciler.audit.actor import resolve_actor

# A full address: a local part of two or more characters before the '@' (masked ones look like
# "j***@example.com", which this does not match).
FULL_EMAIL = re.compile(r"[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-]{2}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Tables that may hold addresses by design (documented personal data).
PERSONAL_TABLES = frozenset(
    {"reconciler_membership", "reconciler_membership_snapshots", "reconciler_membership_changes"}
)
# Addresses that appear on purpose: who accepted consent in the test configuration, and the
# operator running the apply (the journal's actor is git's user.email by design; not a profile).
ALLOWED = frozenset({"jane@contoso.com", resolve_actor(None).lower()})


def leaks(text: str, key: str) -> list[str]:
    """The API key and every full email address found in ``text`` (except allowed ones)."""
    found = [m for m in FULL_EMAIL.findall(text) if m.lower() not in ALLOWED]
    if key and key in text:
        found.insert(0, "<the API key>")
    return found


def journal_dump(db: Path) -> str:
    """Every row of every table of an SQLite state file except the membership cache."""
    lines: list[str] = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table in PERSONAL_TABLES:
                continue
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                lines.append(f"{table}: {row!r}")
    return "\n".join(lines)


def assert_clean(texts: Iterable[tuple[str, str]], key: str) -> None:
    """Fail naming the stream that holds the key or a full address."""
    for where, text in texts:
        found = leaks(text, key)
        assert not found, f"{where} leaks {found[:3]}"
