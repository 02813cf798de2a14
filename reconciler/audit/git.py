"""A thin, typed layer over the ``git`` command line: history, trees and blobs.

Every git call of the reconciler goes through this module. Functions take the repository's
top directory (see :func:`repo_root`: the repository that holds ``--config-dir``, never the
current directory's by accident) and raise :class:`GitError` (or :class:`NotAGitRepository`) with
a message that says what failed and how to fix it; the ``find_*``/``head_commit``/``is_ancestor``
look-ups return None/False instead, for callers that work outside git too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ReconcilerError

FIELD_SEP = "\x1f"
RECORD_SEP = "\x1e"
LOG_FORMAT = FIELD_SEP.join(["%H", "%P", "%an", "%ae", "%aI", "%s"]) + RECORD_SEP
YAML_SUFFIXES = (".yaml", ".yml")


class GitError(ReconcilerError):
    """A git command failed (unknown revision, broken repository, git missing)."""


class NotAGitRepository(GitError):
    """The path is not inside a git work tree."""

    hint = "run the command inside a clone of the repository that holds the declarations"


@dataclass(frozen=True)
class Commit:
    """One commit: full sha, parents, author identity, author date (ISO 8601) and subject."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:10]


def run_git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run ``git -C repo ARGS`` and return its stdout; a failure raises :class:`GitError`."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or "no message"
        raise GitError(f"git {' '.join(args[:3])} failed in {repo}: {message}")
    return done.stdout


def _existing_dir(path: Path) -> Path:
    start = path.absolute()
    while not start.is_dir() and start != start.parent:
        start = start.parent
    return start


def repo_root(path: Path) -> Path:
    """The top directory of the git work tree holding ``path`` (or its nearest existing parent)."""
    start = _existing_dir(path)
    try:
        out = run_git(start, "rev-parse", "--show-toplevel")
    except GitError as exc:
        raise NotAGitRepository(f"{path} is not inside a git repository") from exc
    return Path(out.decode().strip())


def is_shallow(repo: Path) -> bool:
    """True for a shallow clone (``git clone --depth N``), whose history is cut off."""
    out = run_git(repo, "rev-parse", "--is-shallow-repository")
    return out.decode().strip() == "true"


def shallow_boundary(repo: Path) -> set[str]:
    """The commits at which a shallow clone's history stops (empty for a full clone)."""
    path = Path(run_git(repo, "rev-parse", "--git-path", "shallow").decode().strip())
    path = path if path.is_absolute() else repo / path
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def has_commits(repo: Path) -> bool:
    try:
        run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except GitError:
        return False
    return True


def resolve(repo: Path, ref: str) -> str:
    """The full sha of ``ref``; an unknown ref raises :class:`GitError`."""
    try:
        out = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError as exc:
        raise GitError(
            f"unknown git revision '{ref}' in {repo}; fetch it first (in CI: "
            "actions/checkout with fetch-depth: 0)"
        ) from exc
    return out.decode().strip()


def log(repo: Path, *args: str, paths: Iterable[str] = ()) -> list[Commit]:
    """Commits of ``git log ARGS -- PATHS`` in git's order (add ``--reverse`` for oldest first)."""
    out = run_git(repo, "log", f"--format={LOG_FORMAT}", *args, "--", *paths)
    return [
        _parse_commit(rec)
        for rec in out.decode("utf-8", "replace").split(RECORD_SEP)
        if rec.strip()
    ]


def _parse_commit(record: str) -> Commit:
    sha, parents, name, email, date, subject = record.strip("\n").split(FIELD_SEP, 5)
    return Commit(
        sha=sha,
        parents=tuple(parents.split()),
        author_name=name,
        author_email=email,
        date=date,
        subject=subject,
    )


def tree_blobs(repo: Path, commit: str, under: str) -> dict[str, str]:
    """Repo-relative path -> blob sha of the YAML files below ``under`` at ``commit``."""
    out = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", under)
    blobs: dict[str, str] = {}
    for entry in out.decode("utf-8", "replace").split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind == "blob" and path.endswith(YAML_SUFFIXES):
            blobs[path] = sha
    return blobs


def read_blobs(repo: Path, shas: Iterable[str]) -> dict[str, bytes]:
    """Contents of many blobs with one ``git cat-file --batch`` process."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    out = run_git(repo, "cat-file", "--batch", stdin=("\n".join(wanted) + "\n").encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in wanted:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].decode().split()
        if len(header) < 3 or header[1] == "missing":
            raise GitError(f"blob {sha} is missing from the repository")
        size = int(header[2])
        start = header_end + 1
        blobs[sha] = out[start : start + size]
        pos = start + size + 1
    return blobs


def files_at(repo: Path, commit: str, under: str) -> dict[str, bytes]:
    """Repo-relative path -> content of the YAML files below ``under`` at ``commit``."""
    blobs = tree_blobs(repo, commit, under)
    contents = read_blobs(repo, blobs.values())
    return {path: contents[sha] for path, sha in blobs.items()}


def ref_exists(repo: Path, ref: str) -> bool:
    try:
        run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        return False
    return True


def merge_base(repo: Path, a: str, b: str) -> str | None:
    try:
        return run_git(repo, "merge-base", a, b).decode().strip() or None
    except GitError:
        return None


def config_user_email(repo: Path) -> str | None:
    """``git config user.email`` of the repository, if set."""
    try:
        return run_git(repo, "config", "user.email").decode().strip() or None
    except GitError:
        return None


def dirty_paths(repo: Path, under: str) -> list[str]:
    """Paths below ``under`` with uncommitted changes (staged, unstaged or untracked)."""
    out = run_git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--", under)
    entries = iter(out.decode("utf-8", "replace").split("\0"))
    paths: list[str] = []
    for entry in entries:
        if len(entry) <= 3:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            paths.append(next(entries, ""))
    return [p for p in paths if p]


def find_root(path: Path) -> Path | None:
    """:func:`repo_root`, or None when ``path`` is not inside a git work tree (or git is
    missing)."""
    try:
        return repo_root(path)
    except GitError:
        return None


def head_commit(path: Path) -> str | None:
    """The full sha of HEAD in the repository holding ``path``; None outside git or before the
    first commit."""
    root = find_root(path)
    if root is None or not has_commits(root):
        return None
    return resolve(root, "HEAD")


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """True when git knows both commits and ``older`` is an ancestor of ``newer`` (a shallow
    clone without ``newer`` cannot tell: False)."""
    try:
        run_git(repo, "merge-base", "--is-ancestor", older, newer)
    except GitError:
        return False
    return True


def user_email(path: Path) -> str | None:
    """``git config user.email`` as seen from ``path`` (its repository's, else the global one)."""
    return config_user_email(_existing_dir(path))
