"""The configuration at the git base a plan compares against (``--base``)."""

from __future__ import annotations

from pathlib import Path

from reconciler.audit import config_at_ref, default_base
from reconciler.audit.git import find_root
from reconciler.engine.options import RunOptions
from reconciler.errors import ReconcilerError
from reconciler.models import Config


class BaseRefError(ReconcilerError):
    """``--base REF`` cannot be resolved or loaded."""


def repo_root(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None outside git."""
    return find_root(path)


def base_config(options: RunOptions) -> tuple[str | None, Config | None]:
    """(base ref, config at that ref); (None, None) when there is no base to compare with."""
    root = repo_root(options.config_dir)
    if root is None:
        if options.base_ref:
            raise BaseRefError(f"--base {options.base_ref}: {options.config_dir} is not in git")
        return None, None
    ref = options.base_ref or default_base(root)
    if ref is None:
        return None, None
    config_dir = options.config_dir.resolve().relative_to(root)
    config = config_at_ref(root, ref, config_dir)
    return ref, config
