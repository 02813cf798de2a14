"""The demo's set-up: a private copy of the example config, generated profiles, a sandbox.

Nothing outside a temporary directory is written, and no real key or network is needed.
"""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.models import Config

DEMO_KEY = "pk_demo_sandbox_key_not_a_real_one"
FIRST = [
    "ada",
    "alan",
    "grace",
    "linus",
    "barbara",
    "ken",
    "margaret",
    "dennis",
    "edsger",
    "frances",
]
LAST = ["lovelace", "turing", "hopper", "torvalds", "liskov", "thompson", "hamilton", "ritchie"]
COUNTRIES = ["NL", "DE", "FR", "GB", "US", "ES", "SE"]
COLUMNS = ["email", "first_name", "last_name", "country", "lifetime_value", "orders", "subscribed"]


@dataclass(frozen=True)
class DemoWorkspace:
    config_dir: Path
    profiles_file: Path
    profiles: int


def copy_config(source: Path, workdir: Path) -> Path:
    """Copy the example declarations (and their data) into ``workdir``."""
    target = workdir / "exports"
    shutil.copytree(source, target)
    return target


def generate_profiles(path: Path, count: int, seed: int = 7) -> None:
    """Write ``count`` sample profiles, with a few invalid and duplicate rows, as CSV."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for i in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}.{i}@example.com"
            if i % 97 == 0:
                email = f"{first} {last}@example"  # invalid: a space and no domain suffix
            elif i % 89 == 0:
                email = f"  {email.upper()} "  # duplicate of the previous row once normalised
                writer.writerow(_row(rng, f"{first}.{last}.{i}@example.com", first, last))
            writer.writerow(_row(rng, email, first, last))


def _row(rng: random.Random, email: str, first: str, last: str) -> list[object]:
    value = round(rng.lognormvariate(6.0, 1.2), 2)
    return [
        email,
        first.title(),
        last.title(),
        rng.choice(COUNTRIES),
        value,
        rng.randint(0, 40),
        rng.random() < 0.6,
    ]


def profile_files(config: Config, config_dir: Path) -> list[Path]:
    """The CSV files the demo's sources read (to be replaced by generated profiles)."""
    found = []
    for source in config.sources.values():
        for pattern in (source.files or {}).values():
            if pattern.endswith(".csv") and "*" not in pattern:
                found.append(config_dir / pattern)
    return found


def seed_members(emails: list[str], keep: float, outsiders: int, seed: int = 11) -> list[str]:
    """Some of ``emails`` plus ``outsiders`` addresses not in the segment: an existing list."""
    rng = random.Random(seed)
    kept = [e for e in emails if rng.random() < keep]
    return kept + [f"former.member.{i}@example.org" for i in range(outsiders)]


def fit_limits(config_dir: Path, profiles: int) -> list[str]:
    """Raise every ``limits.max_profiles`` below ``profiles`` in the demo's private copy, so that
    the demo converges at every size it accepts; one note per raised limit. (The guard itself
    is shown working by the tests, not by the demo.)"""
    notes: list[str] = []
    for path in sorted(config_dir.rglob("*.y*ml")):
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        raised = [doc for doc in docs if _raise_cap(doc, profiles)]
        if raised:
            path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
            notes += [
                f"{doc['name']}: limits.max_profiles raised to {profiles:,} in the demo's copy "
                "(the example's own files are unchanged)"
                for doc in raised
            ]
    return notes


def _raise_cap(doc: Any, profiles: int) -> bool:
    if not isinstance(doc, dict) or doc.get("kind") != "Export":
        return False
    limits = doc.get("limits")
    if not isinstance(limits, dict):
        return False
    cap = limits.get("max_profiles")
    if not isinstance(cap, int) or cap >= profiles:
        return False
    limits["max_profiles"] = profiles
    return True
