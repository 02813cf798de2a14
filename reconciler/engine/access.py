"""Access rules on plan: who may change connections, exports and Access (see kind Access)."""

from __future__ import annotations

from reconciler.audit import access_report
from reconciler.engine.gitbase import repo_root
from reconciler.engine.options import RunOptions
from reconciler.errors import AccessError

ACCESS_HINT = (
    "if the change is yours to make, plan as the identity Access lists for you (--actor "
    "EMAIL_OR_HANDLE, or commit with that git user.email); otherwise ask one of Access.admins "
    "to make or approve the change"
)


def enforce_access(options: RunOptions) -> list[str]:
    """Raise AccessError when an author changed what their role may not change; else return
    the warnings (no Access document, no base to compare with)."""
    if repo_root(options.config_dir) is None:
        return []
    report = access_report(options.config_dir, options.base_ref, options.actor)
    if report.problems:
        error = AccessError("access rules broken:\n  " + "\n  ".join(report.problems))
        error.hint = ACCESS_HINT
        raise error
    return list(report.warnings)
