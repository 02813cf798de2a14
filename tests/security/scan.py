"""Searches text and the state database's journal for secrets and full email addresses."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from reconciler.audit.actor import resolve_actor

# Anything shaped like an address, written here independently of reconciler.emails and at least
# as wide as its masker: any local part no address syntax separates (unicode, quoted, upper
# case), any domain (no dot needed, IDN in Unicode or xn-- form, IP literal).
FULL_EMAIL = re.compile(
    r'(?:"(?:[^"\\\r\n]|\\.)*"|[^\s@"(),:;<>\[\]\\]+)@(?:\[[^\]\s@]*\]|[\w-]+(?:\.[\w-]+)*)'
)
# What a masked address's local part looks like: "j***", "j***e", "j****e", "j*****e".
MASKED_LOCAL = re.compile(r".\*{3,5}[^*]?|\**")
# A phone number in E.164 form (separators allowed): masked ones keep only the last two digits.
PHONE = re.compile(r"(?<![\w*+])\+\d(?:[\s.-]?\d){6,14}(?![\w*])")
# Tables that may hold addresses by design (documented personal data).
# tables that hold addresses by design (personal data, like the membership cache; the state
# file is 0600): the journal never does
PERSONAL_TABLES = frozenset(
    {
        "reconciler_membership",
        "reconciler_membership_snapshots",
        "reconciler_membership_changes",
        "reconciler_departures",
        "reconciler_imported",
        "reconciler_sent_profiles",
    }
)
# Addresses that appear on purpose: who accepted consent in the test configuration, and the
# operator running the apply (the journal's actor is git's user.email by design; not a profile).
ALLOWED = frozenset({"jane@contoso.com", resolve_actor(None).lower()})


def full_addresses(text: str) -> list[str]:
    """Every address in ``text`` that is not masked (leading quote marks are not part of it)."""
    found = []
    for match in FULL_EMAIL.findall(text):
        address = match.lstrip("'`/")
        local = address.rpartition("@")[0]
        if local and not MASKED_LOCAL.fullmatch(local) and address.lower() not in ALLOWED:
            found.append(address)
    return found


def leaks(text: str, key: str) -> list[str]:
    """The API key, every full email address and every E.164 phone number found in ``text``."""
    found = full_addresses(text) + PHONE.findall(text)
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
