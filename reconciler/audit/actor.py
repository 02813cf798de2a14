"""Who runs an apply: ``--actor``, else $GITHUB_ACTOR, else git's user.email, else the OS user."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from reconciler.audit.git import user_email


def resolve_actor(explicit: str | None, *, where: Path | None = None) -> str:
    """The first non-empty of: ``explicit``, $GITHUB_ACTOR, ``git config user.email`` of the
    repository holding ``where`` (the config directory; default the current directory), the OS
    user."""
    for candidate in (explicit, os.environ.get("GITHUB_ACTOR"), user_email(where or Path("."))):
        if candidate and candidate.strip():
            return candidate.strip()
    return _os_user()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
