"""The configuration before and after every commit that touched the config directory.

``git log -- DIR`` is walked once, oldest first (topological order, merges left out: their
changes are attributed to the commits that made them). Each commit is compared with its first
parent, so commits of parallel branches never appear to undo each other. Trees are listed with
``git ls-tree`` and every distinct blob is read once with ``git cat-file --batch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.audit import git
from reconciler.audit.git import Commit
from reconciler.config import load_config_from_files
from reconciler.errors import Problem
from reconciler.models import Config

Loaded = tuple[Config | None, list[Problem]]


@dataclass(frozen=True)
class Step:
    """One commit and the declarations before and after it.

    ``before`` is None when the parent's declarations were invalid (compare with the last valid
    state instead); ``truncated`` marks a shallow clone's boundary commit, whose real parent is
    not in the clone, so everything it shows as created may be older.
    """

    commit: Commit
    before: Config | None
    after: Config
    truncated: bool = False


@dataclass
class History:
    """Readable steps in commit order, plus notes about commits that could not be read."""

    repo: Path
    config_dir: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    shallow: bool = False
    oldest_visible: Commit | None = None


def relative_config_dir(repo: Path, config_dir: Path) -> str:
    """``config_dir`` as a repo-relative POSIX path ("." for the repository's top)."""
    absolute = config_dir if config_dir.is_absolute() else Path.cwd() / config_dir
    try:
        rel = absolute.resolve().relative_to(repo.resolve())
    except ValueError as exc:
        raise git.GitError(f"{config_dir} is outside the git repository {repo}") from exc
    return rel.as_posix() or "."


def load_files(files: dict[str, bytes], config_dir: str) -> Loaded:
    """Load in-memory declaration files; an empty directory is an empty config."""
    if not files:
        return Config(), []
    return load_config_from_files(files, root=config_dir)


def is_valid(loaded: Loaded) -> bool:
    config, problems = loaded
    return config is not None and not any(p.severity == "error" for p in problems)


class _Reader:
    """Loads the config at commits, caching trees, blobs and parsed configs."""

    def __init__(self, repo: Path, config_dir: str) -> None:
        self.repo = repo
        self.config_dir = config_dir
        self.blobs: dict[str, bytes] = {}
        self.loaded: dict[str, Loaded] = {}

    def prefetch(self, commits: list[str]) -> dict[str, dict[str, str]]:
        trees = {sha: git.tree_blobs(self.repo, sha, self.config_dir) for sha in commits}
        wanted = {b for tree in trees.values() for b in tree.values()} - set(self.blobs)
        self.blobs.update(git.read_blobs(self.repo, wanted))
        return trees

    def load(self, sha: str, tree: dict[str, str] | None = None) -> Loaded:
        if sha not in self.loaded:
            tree = tree if tree is not None else self.prefetch([sha])[sha]
            files = {path: self.blobs[blob] for path, blob in tree.items()}
            self.loaded[sha] = load_files(files, self.config_dir)
        return self.loaded[sha]


def read_history(repo: Path, config_dir: str) -> History:
    """Every commit touching ``config_dir``, oldest first, with the config before and after."""
    history = History(repo=repo, config_dir=config_dir)
    if not git.has_commits(repo):
        history.notes.append("the repository has no commits yet")
        return history
    history.shallow = git.is_shallow(repo)
    commits = git.log(repo, "--reverse", "--topo-order", "--no-merges", paths=[config_dir])
    boundary = git.shallow_boundary(repo) if history.shallow else set()
    reader = _Reader(repo, config_dir)
    trees = reader.prefetch([c.sha for c in commits])
    for commit in commits:
        after = reader.load(commit.sha, trees[commit.sha])
        if not is_valid(after):
            history.notes.append(_skipped_note(commit, after[1]))
            continue
        history.steps.append(_step(reader, commit, after[0], boundary))
    if commits:
        history.oldest_visible = commits[0]
    return history


def _step(reader: _Reader, commit: Commit, after: Config | None, boundary: set[str]) -> Step:
    """``before`` is empty for a root commit and None when the parent's config was invalid."""
    assert after is not None
    if not commit.parents:
        return Step(commit=commit, before=Config(), after=after, truncated=commit.sha in boundary)
    before = reader.load(commit.parents[0])
    return Step(commit=commit, before=before[0] if is_valid(before) else None, after=after)


def _skipped_note(commit: Commit, problems: list[Problem]) -> str:
    errors = [p for p in problems if p.severity == "error"]
    first = f"; first: {errors[0].file}:{errors[0].line}: {errors[0].message}" if errors else ""
    return (
        f"commit {commit.short} ({commit.date[:10]}, {commit.author_email}) skipped: "
        f"the declarations were invalid at that commit ({len(errors)} error(s){first})"
    )


def config_at(repo: Path, ref: str, config_dir: str) -> Config | None:
    """The declarations at ``ref``; None when the directory is absent or invalid there."""
    sha = git.resolve(repo, ref)
    files = git.files_at(repo, sha, config_dir)
    if not files:
        return None
    loaded = load_files(files, config_dir)
    return loaded[0] if is_valid(loaded) else None
