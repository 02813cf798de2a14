"""Git refs a plan compares against: the default base and the config at a ref."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reconciler.audit import git
from reconciler.audit.history import config_at
from reconciler.models import Config

DEFAULT_BRANCHES = ("origin/HEAD", "main", "master", "origin/main", "origin/master")


def default_base(repo: Path, env: Mapping[str, str] | None = None) -> str | None:
    """The merge base of HEAD with the default branch, or None when there is none.

    In a GitHub pull request (``GITHUB_BASE_REF`` set) the pull request's base branch is tried
    first; then ``origin/HEAD``, ``main``, ``master``, ``origin/main`` and ``origin/master``.
    """
    env = os.environ if env is None else env
    if not git.has_commits(repo):
        return None
    candidates = list(DEFAULT_BRANCHES)
    pr_base = env.get("GITHUB_BASE_REF")
    if pr_base:
        candidates[:0] = [f"origin/{pr_base}", pr_base]
    for ref in candidates:
        if git.ref_exists(repo, ref):
            return git.merge_base(repo, "HEAD", ref)
    return None


def config_at_ref(repo: Path, ref: str, config_dir: Path) -> Config | None:
    """The declarations under ``config_dir`` (repo-relative) at ``ref``.

    None when the directory holds no YAML at that ref or its declarations were invalid there;
    an unknown ref raises ``GitError``.
    """
    rel = config_dir.as_posix() if not config_dir.is_absolute() else _relative(repo, config_dir)
    return config_at(repo, ref, rel or ".")


def _relative(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError as exc:
        raise git.GitError(f"{path} is outside the git repository {repo}") from exc
