"""Who runs an apply: ``--actor``, else $GITHUB_ACTOR, else git's user.email, else the OS user."""

from __future__ import annotations

import getpass
import os
import subprocess


def resolve_actor(explicit: str | None) -> str:
    """The first non-empty of: ``explicit``, $GITHUB_ACTOR, ``git config user.email``, OS user."""
    for candidate in (explicit, os.environ.get("GITHUB_ACTOR"), _git_user_email()):
        if candidate and candidate.strip():
            return candidate.strip()
    return _os_user()


def _git_user_email() -> str | None:
    try:
        out = subprocess.run(
            ["git", "config", "user.email"],
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
