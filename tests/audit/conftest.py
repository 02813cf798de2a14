"""A small repository whose history exercises every audit question."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.audit.gitrepo import (
    EVE,
    JANE,
    MARK,
    GitRepo,
    access,
    connection,
    docs,
    export,
    source_and_segment,
)


@dataclass
class Story:
    repo: GitRepo
    commits: dict[str, str]


def write_story(repo: GitRepo) -> dict[str, str]:
    """Created disabled, enabled by Mark, consent edited by Eve, moved, broken, fixed."""
    commits: dict[str, str] = {}
    repo.write("README.md", "config repo\n")
    repo.write("exports/access.yaml", access(["jane@contoso.com"], ["mark@contoso.com"]))
    repo.write(
        "exports/main.yaml",
        docs(connection(), source_and_segment(), export(enabled=False)),
    )
    commits["create"] = repo.commit(JANE, "Add marketing connection and VIP export")
    repo.write("exports/main.yaml", docs(connection(), source_and_segment(), export(enabled=True)))
    commits["enable"] = repo.commit(MARK, "Enable the VIP export")
    repo.write(
        "exports/main.yaml",
        docs(connection(accepted_by="mark@contoso.com"), source_and_segment(), export()),
    )
    commits["consent"] = repo.commit(EVE, "Consent accepted by Mark")
    repo.git("mv", "exports/main.yaml", "exports/all.yaml")
    repo.write(
        "exports/all.yaml",
        docs(connection(accepted_by="mark@contoso.com"), source_and_segment(), export()),
    )
    repo.write("exports/exports.yaml", export(mode="add_only"))
    repo.write(
        "exports/all.yaml",
        docs(connection(accepted_by="mark@contoso.com"), source_and_segment()),
    )
    commits["move"] = repo.commit(MARK, "Move the export to its own file, add_only")
    repo.write("exports/exports.yaml", "kind: Export\nname: [broken\n")
    commits["broken"] = repo.commit(JANE, "Oops")
    repo.write("exports/exports.yaml", export(mode="add_only", list_id="AbC123"))
    commits["fix"] = repo.commit(JANE, "Fix the export, new list")
    repo.write("notes.txt", "not config\n")
    repo.commit(EVE, "Unrelated change")
    return commits


@pytest.fixture()
def story(tmp_path: Path) -> Story:
    repo = GitRepo(tmp_path / "config-repo")
    return Story(repo=repo, commits=write_story(repo))
