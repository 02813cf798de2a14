"""reconciler.audit.audit over a real git repository with several authors."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.audit import NotAGitRepository, UnknownAuditExport, audit
from tests.audit.conftest import Story
from tests.audit.gitrepo import JANE, MARK, GitRepo, connection, docs, export, source_and_segment


def entry(story: Story, kind: str, name: str) -> dict[str, Any]:
    report = audit(story.repo.path / "exports")
    found = [e.as_dict() for e in report.entries if (e.kind, e.name) == (kind, name)]
    assert len(found) == 1, [e.as_dict()["name"] for e in report.entries]
    return found[0]


def test_created_by_and_enabled_later_by_someone_else(story: Story) -> None:
    e = entry(story, "Export", "vip-to-klaviyo")
    assert e["created_by"] == "jane@contoso.com"
    assert e["created_commit"] == story.commits["create"]
    assert e["created_at"].startswith("2026-")
    assert e["enabled"] is True
    assert e["enabled_by"] == "mark@contoso.com"
    assert e["enabled_commit"] == story.commits["enable"]


def test_consent_set_by_another_author_is_flagged(story: Story) -> None:
    conn = entry(story, "Connection", "klaviyo-marketing")
    assert conn["consent_accepted_by"] == "mark@contoso.com"
    assert conn["consent_commit_author"] == "eve@contoso.com"
    assert conn["consent_commit"] == story.commits["consent"]
    assert conn["consent_mismatch"] is True
    assert any("eve@contoso.com" in w for w in conn["warnings"])
    exp = entry(story, "Export", "vip-to-klaviyo")
    assert exp["consent_accepted_by"] == "mark@contoso.com"
    assert exp["consent_mismatch"] is True


def test_consent_by_its_own_author_is_not_flagged(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("exports/a.yaml", docs(connection(), source_and_segment(), export()))
    repo.commit(JANE, "init")
    report = audit(repo.path / "exports")
    conn = next(e.as_dict() for e in report.entries if e.kind == "Connection")
    assert conn["consent_commit_author"] == "jane@contoso.com"
    assert conn["consent_mismatch"] is False
    assert conn["enabled_by"] == "jane@contoso.com"  # created with consent accepted


def test_field_level_changes_with_authors(story: Story) -> None:
    changes = entry(story, "Export", "vip-to-klaviyo")["changes"]
    assert [c["commit"] for c in changes] == [
        story.commits["enable"],
        story.commits["move"],
        story.commits["fix"],
    ]
    assert changes[0]["fields"] == [{"path": "enabled", "old": False, "new": True}]
    assert changes[0]["author"] == "mark@contoso.com"
    assert {"path": "mode", "old": "mirror", "new": "add_only"} in changes[1]["fields"]
    assert changes[2]["fields"] == [{"path": "list_id", "old": "Y6nRLr", "new": "AbC123"}]
    assert changes[2]["author"] == "jane@contoso.com"


def test_moving_between_files_is_not_a_new_declaration(story: Story) -> None:
    exp = entry(story, "Export", "vip-to-klaviyo")
    assert exp["created_commit"] == story.commits["create"]
    move = exp["changes"][1]
    assert move["fields"][0] == {
        "path": "(file)",
        "old": "exports/main.yaml",
        "new": "exports/exports.yaml",
    }
    conn = entry(story, "Connection", "klaviyo-marketing")
    assert conn["file"] == "exports/all.yaml"  # git mv main.yaml -> all.yaml
    assert conn["changes"][-1]["action"] == "moved"
    assert conn["created_commit"] == story.commits["create"]


def test_invalid_commit_is_skipped_with_a_note(story: Story) -> None:
    report = audit(story.repo.path / "exports")
    assert len(report.notes) == 1
    assert story.commits["broken"][:10] in report.notes[0]
    assert "invalid" in report.notes[0]
    assert not report.shallow and report.warnings == []


def test_json_entries_have_the_documented_keys(story: Story) -> None:
    required = {
        "kind", "name", "created_by", "created_at", "enabled_by", "enabled_at",
        "enabled_commit", "consent_accepted_by", "consent_commit_author", "changes", "last_runs",
    }  # fmt: skip
    report = audit(story.repo.path / "exports")
    assert [(e.kind, e.name) for e in report.entries] == [
        ("Connection", "klaviyo-marketing"),
        ("Export", "vip-to-klaviyo"),
        ("Access", "access"),
    ]
    for e in report.entries:
        assert required <= set(e.as_dict())


def test_export_filter_keeps_the_export_and_its_connection(story: Story) -> None:
    report = audit(story.repo.path / "exports", export="vip-to-klaviyo")
    assert [(e.kind, e.name) for e in report.entries] == [
        ("Connection", "klaviyo-marketing"),
        ("Export", "vip-to-klaviyo"),
    ]
    with pytest.raises(UnknownAuditExport, match="known: vip-to-klaviyo"):
        audit(story.repo.path / "exports", export="nope")


def test_disabled_then_removed_then_restored(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("exports/a.yaml", docs(connection(), source_and_segment(), export()))
    repo.commit(JANE, "init")
    repo.write("exports/a.yaml", docs(connection(), source_and_segment(), export(enabled=False)))
    repo.commit(MARK, "disable")
    repo.write("exports/a.yaml", docs(connection(), source_and_segment()))
    removed = repo.commit(MARK, "remove")
    report = audit(repo.path / "exports")
    exp = next(e.as_dict() for e in report.entries if e.kind == "Export")
    assert exp["status"] == "removed"
    assert exp["enabled"] is False and exp["enabled_by"] is None
    assert exp["changes"][-1]["action"] == "removed"
    assert exp["changes"][-1]["commit"] == removed
    repo.write("exports/a.yaml", docs(connection(), source_and_segment(), export()))
    restored = repo.commit(JANE, "restore")
    exp = next(e.as_dict() for e in audit(repo.path / "exports").entries if e.kind == "Export")
    assert exp["status"] == "present"
    assert exp["changes"][-1]["action"] == "restored"
    assert exp["enabled_commit"] == restored
    assert exp["created_by"] == "jane@contoso.com"


def test_branches_are_attributed_to_their_own_commits(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("exports/a.yaml", docs(connection(), source_and_segment(), export()))
    repo.commit(JANE, "init")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("exports/b.yaml", export(name="second", list_id="BBBBBB"))
    feature = repo.commit(MARK, "second export")
    repo.git("checkout", "-q", "main")
    repo.write("exports/a.yaml", docs(connection(), source_and_segment(), export(mode="add_only")))
    main = repo.commit(JANE, "add_only")
    repo.clock += 1
    repo.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature", author=JANE)
    report = audit(repo.path / "exports")
    by_name = {e.name: e.as_dict() for e in report.entries}
    assert by_name["second"]["created_commit"] == feature
    assert by_name["second"]["changes"] == []  # main's commit did not "remove" it
    assert [c["commit"] for c in by_name["vip-to-klaviyo"]["changes"]] == [main]


def test_uncommitted_changes_are_warned_about(story: Story) -> None:
    story.repo.write("exports/new.yaml", "kind: Access\nadmins: []\n")
    report = audit(story.repo.path / "exports")
    assert any("uncommitted" in w and "exports/new.yaml" in w for w in report.warnings)


def test_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    with pytest.raises(NotAGitRepository, match="not inside a git repository"):
        audit(tmp_path / "exports")


def test_shallow_clone_warns_about_what_it_cannot_see(story: Story, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{story.repo.path}", str(clone)],
        check=True,
    )
    report = audit(clone / "exports")
    assert report.shallow
    assert any("shallow clone" in w and "fetch-depth: 0" in w for w in report.warnings)
    exp = next(e.as_dict() for e in report.entries if e.kind == "Export")
    # only 'fix' is visible: its creation is the cut-off point, flagged as such
    assert exp["created_commit"] == story.commits["fix"]
    assert any("shallow" in w for w in exp["warnings"])


def test_depth_one_clone_attributes_everything_to_the_cut_off(story: Story, tmp_path: Path) -> None:
    clone = tmp_path / "shallow1"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{story.repo.path}", str(clone)],
        check=True,
    )
    report = audit(clone / "exports")
    assert report.shallow and report.warnings
    for e in report.entries:
        data = e.as_dict()
        assert data["created_by"] == "eve@contoso.com"  # the only visible commit
        assert any("real creation may be older" in w for w in data["warnings"])
