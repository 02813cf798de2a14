"""The access check of ``plan``: who changed what since the base, and may they?

Whose rights are checked, in order: an explicit ``--actor``; else, in a GitHub pull request
(``GITHUB_EVENT_NAME`` is ``pull_request`` or ``pull_request_target``), ``GITHUB_ACTOR``; else
the git authors of the commits since the base that touched each changed file (uncommitted
changes count as the local ``git config user.email``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.audit import git
from reconciler.audit.access import (
    NO_ACCESS_WARNING,
    AccessViolation,
    allowed,
    changed_declarations,
    rules_in_force,
)
from reconciler.audit.history import is_valid, load_files, relative_config_dir
from reconciler.audit.refs import config_at_ref, default_base
from reconciler.models import Config

PR_EVENTS = ("pull_request", "pull_request_target")
AUTHOR_MARK = "\x1fauthor:"
UNKNOWN_LOCAL_AUTHOR = "(uncommitted changes by an unknown author)"


@dataclass(frozen=True)
class Authors:
    """Who is responsible for changes: one identity for all, or the authors of each file."""

    source: str
    everyone: str | None = None
    by_file: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of(self, file: str | None) -> set[str]:
        if self.everyone is not None:
            return {self.everyone}
        if file is not None and file in self.by_file:
            return set(self.by_file[file])
        return set().union(*self.by_file.values()) if self.by_file else set()


@dataclass
class AccessReport:
    base: str | None
    authors: Authors | None
    violations: list[AccessViolation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [v.message for v in self.violations]


def changed_files_authors(repo: Path, base_ref: str, config_dir: Path | str) -> dict[str, set[str]]:
    """Repo-relative path -> emails of the authors of commits since ``base_ref`` touching it."""
    rel = Path(config_dir).as_posix()
    out = git.run_git(
        repo,
        "log",
        "--no-merges",
        "--no-renames",
        "--name-only",
        f"--format={AUTHOR_MARK}%ae",
        f"{git.resolve(repo, base_ref)}..HEAD",
        "--",
        rel,
    )
    authors: dict[str, set[str]] = {}
    author = ""
    for line in out.decode("utf-8", "replace").splitlines():
        if line.startswith(AUTHOR_MARK):
            author = line[len(AUTHOR_MARK) :]
        elif line.strip():
            authors.setdefault(line.strip(), set()).add(author)
    return authors


def authors_to_check(
    repo: Path,
    base_ref: str,
    config_dir: str,
    actor: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Authors:
    """Explicit ``actor``, else ``GITHUB_ACTOR`` in a pull request, else the git authors."""
    env = os.environ if env is None else env
    if actor:
        return Authors(source="--actor", everyone=actor)
    if env.get("GITHUB_EVENT_NAME") in PR_EVENTS and env.get("GITHUB_ACTOR"):
        return Authors(source="GITHUB_ACTOR", everyone=env["GITHUB_ACTOR"])
    by_file = {
        p: frozenset(a) for p, a in changed_files_authors(repo, base_ref, config_dir).items()
    }
    dirty = git.dirty_paths(repo, config_dir)
    if dirty:
        local = git.config_user_email(repo) or UNKNOWN_LOCAL_AUTHOR
        by_file.update({p: by_file.get(p, frozenset()) | {local} for p in dirty})
    return Authors(source="git authors", by_file=by_file)


def working_tree_config(repo: Path, config_dir: str) -> Config | None:
    """The declarations on disk, loaded with repo-relative file names (None when invalid)."""
    top = repo / config_dir
    if not top.is_dir():
        return None
    paths = sorted(p for p in top.rglob("*") if p.suffix in git.YAML_SUFFIXES and p.is_file())
    files = {p.relative_to(repo).as_posix(): p.read_bytes() for p in paths}
    if not files:
        return None
    loaded = load_files(files, config_dir)
    return loaded[0] if is_valid(loaded) else None


def access_report(
    config_dir: Path,
    base_ref: str | None,
    actor: str | None,
    env: Mapping[str, str] | None = None,
) -> AccessReport:
    """Check the changes under ``config_dir`` since ``base_ref`` (default: merge base)."""
    repo = git.repo_root(config_dir)
    rel = relative_config_dir(repo, config_dir)
    ref = base_ref or default_base(repo, env)
    report = AccessReport(base=ref, authors=None)
    if ref is None:
        report.warnings.append("access rules not checked: no base branch to compare with")
        return report
    head = working_tree_config(repo, rel)
    if head is None:
        report.warnings.append("access rules not checked: the declarations are invalid")
        return report
    base = config_at_ref(repo, ref, Path(rel))
    if base is None and git.files_at(repo, git.resolve(repo, ref), rel):
        report.warnings.append(
            f"the declarations at the base {ref[:10]} are invalid: every declaration counts as "
            "added and the Access rules of this change are used"
        )
    rules = rules_in_force(base, head)
    if rules is None:
        report.warnings.append(NO_ACCESS_WARNING)
        return report
    report.authors = authors_to_check(repo, ref, rel, actor, env)
    for change in changed_declarations(base, head):
        for author in sorted(report.authors.of(change.file)):
            if not allowed(author, change.required, rules):
                report.violations.append(AccessViolation(author=author, change=change))
    return report


def access_problems(config_dir: Path, base_ref: str | None, actor: str | None) -> list[str]:
    """Clear messages, one per change made by someone the Access rules do not allow."""
    return access_report(config_dir, base_ref, actor).problems
