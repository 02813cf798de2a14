"""Access rules on plan: who may change connections, exports and Access (see kind Access)."""

from __future__ import annotations

from reconciler.audit import access_problems
from reconciler.engine.gitbase import repo_root
from reconciler.engine.options import RunOptions
from reconciler.errors import AccessError


def enforce_access(options: RunOptions) -> None:
    """Raise AccessError when an author changed what their role may not change."""
    if repo_root(options.config_dir) is None:
        return
    problems = access_problems(options.config_dir, options.base_ref, options.actor)
    if problems:
        raise AccessError("access rules broken:\n  " + "\n  ".join(problems))
