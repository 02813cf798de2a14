"""Audit trail, Access rules and schedules, read from git history and the run journal.

Public API:

* :func:`audit` -> :class:`AuditReport` (``reconciler audit``), rendered by
  :func:`render_report`.
* :func:`check_access`, :func:`changed_files_authors`, :func:`authors_to_check`,
  :func:`access_report`, :func:`access_problems` (the Access check of ``plan``).
* :func:`config_at_ref`, :func:`default_base` (``plan --base``).
* :func:`is_due` (``apply --due``), in :mod:`reconciler.audit.schedule`.
"""

from __future__ import annotations

from reconciler.audit.access import AccessViolation, DeclarationChange, check_access
from reconciler.audit.gate import (
    AccessReport,
    Authors,
    access_problems,
    access_report,
    authors_to_check,
    changed_files_authors,
)
from reconciler.audit.git import GitError, NotAGitRepository
from reconciler.audit.refs import config_at_ref, default_base
from reconciler.audit.render import render_report
from reconciler.audit.report import AuditEntry, AuditReport, UnknownAuditExport, audit
from reconciler.audit.schedule import ScheduleError, is_due, next_fire

__all__ = [
    "AccessReport",
    "AccessViolation",
    "AuditEntry",
    "AuditReport",
    "Authors",
    "DeclarationChange",
    "GitError",
    "NotAGitRepository",
    "ScheduleError",
    "UnknownAuditExport",
    "access_problems",
    "access_report",
    "audit",
    "authors_to_check",
    "changed_files_authors",
    "check_access",
    "config_at_ref",
    "default_base",
    "is_due",
    "next_fire",
    "render_report",
]
