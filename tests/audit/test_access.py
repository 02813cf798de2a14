"""Access rules: who may change connections, exports and Access."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.audit import (
    access_problems,
    access_report,
    authors_to_check,
    changed_files_authors,
    check_access,
    config_at_ref,
    default_base,
)
from reconciler.config import load_config_from_files
from reconciler.models import Config
from tests.audit.gitrepo import (
    JANE,
    MARK,
    GitRepo,
    access,
    connection,
    docs,
    export,
    source_and_segment,
)

ACCESS = access(["jane@contoso.com"], ["mark@contoso.com", "@octocat"])
NO_ENV: dict[str, str] = {}


def files(
    *,
    vip_mode: str = "mirror",
    open_mode: str = "mirror",
    marketing_name: str = "Klaviyo (marketing)",
    access_text: str | None = ACCESS,
) -> dict[str, str]:
    """exports/ with an admins-only and a contributors connection, one export on each."""
    out = {
        "exports/connections.yaml": docs(
            connection(display_name=marketing_name),
            connection(name="klaviyo-open", usable_by="contributors"),
        ),
        "exports/segments.yaml": source_and_segment(),
        "exports/exports.yaml": docs(
            export(mode=vip_mode),
            export(
                name="open-export", connection_name="klaviyo-open", list_id="OPEN01", mode=open_mode
            ),
        ),
    }
    if access_text is not None:
        out["exports/access.yaml"] = access_text
    return out


def load(texts: dict[str, str]) -> Config:
    config, problems = load_config_from_files({k: v.encode() for k, v in texts.items()})
    assert config is not None, [p.render() for p in problems]
    return config


def messages(base: Config | None, head: Config, author: str) -> list[str]:
    return [v.message for v in check_access(base, head, author)]


def test_contributor_may_not_change_an_admins_only_export() -> None:
    base, head = load(files()), load(files(vip_mode="add_only"))
    assert messages(base, head, "mark@contoso.com") == [
        "mark@contoso.com changed export vip-to-klaviyo (exports/exports.yaml), which uses "
        "connection klaviyo-marketing (usable_by: admins); mark@contoso.com is not in "
        "Access.admins"
    ]
    assert messages(base, head, "Jane@Contoso.com") == []


def test_contributor_may_change_a_contributors_export() -> None:
    base, head = load(files()), load(files(open_mode="add_only"))
    assert messages(base, head, "mark@contoso.com") == []
    assert messages(base, head, "octocat") == []  # GitHub handle listed as @octocat
    violation = check_access(base, head, "eve@contoso.com")
    assert len(violation) == 1
    assert violation[0].message.endswith(
        "eve@contoso.com is not in Access.admins or Access.contributors"
    )


def test_connection_changes_need_an_admin() -> None:
    base, head = load(files()), load(files(marketing_name="Renamed"))
    found = messages(base, head, "mark@contoso.com")
    assert found == [
        "mark@contoso.com changed connection klaviyo-marketing (exports/connections.yaml); "
        "changing connections needs an admin; mark@contoso.com is not in Access.admins"
    ]
    assert messages(base, head, "jane@contoso.com") == []


def test_access_changes_need_an_admin_of_the_base() -> None:
    promoted = access(["jane@contoso.com", "mark@contoso.com"], [])
    base, head = load(files()), load(files(access_text=promoted))
    found = messages(base, head, "mark@contoso.com")
    assert len(found) == 1
    assert found[0].startswith("mark@contoso.com changed Access document (exports/access.yaml)")
    assert messages(base, head, "jane@contoso.com") == []


def test_added_and_removed_exports() -> None:
    base = load(files())
    texts = files()
    texts["exports/exports.yaml"] = export(
        name="open-export", connection_name="klaviyo-open", list_id="OPEN01"
    )
    head = load(texts)
    found = check_access(base, head, "mark@contoso.com")
    assert [(v.change.action, v.change.name) for v in found] == [("removed", "vip-to-klaviyo")]


def test_no_access_document_means_no_restrictions() -> None:
    base = load(files(access_text=None))
    head = load(files(access_text=None, vip_mode="add_only"))
    assert check_access(base, head, "eve@contoso.com") == []
    assert check_access(None, head, "eve@contoso.com") == []


def test_without_base_everything_is_added() -> None:
    head = load(files())
    found = check_access(None, head, "mark@contoso.com")
    assert sorted((v.change.kind, v.change.name) for v in found) == [
        ("Access", "access"),
        ("Connection", "klaviyo-marketing"),
        ("Connection", "klaviyo-open"),
        ("Export", "vip-to-klaviyo"),
        ("Segment", "vip-customers"),
        ("Source", "profiles"),
    ]


def segments(query: str, extra_segment: bool = False) -> str:
    """A source and segment vip-customers with ``query``; optionally an unused segment too."""
    text = (
        "kind: Source\nname: profiles\nfiles: {profiles: data/profiles.csv}\n---\n"
        f"kind: Segment\nname: vip-customers\nsource: profiles\nquery: {query}\n"
    )
    if extra_segment:
        text += "---\nkind: Segment\nname: unused\nsource: profiles\ntable: profiles\n"
    return text


def with_segments(text: str, *, open_only: bool = False) -> dict[str, str]:
    out = {**files(), "exports/segments.yaml": text}
    if open_only:  # only the contributors' export uses the segment
        out["exports/exports.yaml"] = export(
            name="open-export", connection_name="klaviyo-open", list_id="OPEN01"
        )
    return out


def test_changing_a_segment_takes_the_role_of_the_exports_it_feeds() -> None:
    base = load(with_segments(segments("SELECT * FROM profiles WHERE lifetime_value > 1000")))
    head = load(with_segments(segments("SELECT * FROM profiles")))
    assert messages(base, head, "mark@contoso.com") == [
        "mark@contoso.com changed segment vip-customers (exports/segments.yaml), which feeds "
        "exports to connection klaviyo-marketing (usable_by: admins), connection klaviyo-open "
        "(usable_by: contributors); mark@contoso.com is not in Access.admins"
    ]
    assert messages(base, head, "jane@contoso.com") == []
    assert messages(base, head, "eve@contoso.com") != []


def test_a_segment_feeding_only_contributors_exports_is_theirs_to_change() -> None:
    base = load(with_segments(segments("SELECT * FROM profiles"), open_only=True))
    head = load(with_segments(segments("SELECT * FROM profiles LIMIT 10"), open_only=True))
    assert messages(base, head, "mark@contoso.com") == []
    assert len(messages(base, head, "eve@contoso.com")) == 1


def test_a_source_change_reaches_the_exports_of_its_segments_and_unused_ones_are_free() -> None:
    query = "SELECT * FROM profiles"
    base = load(with_segments(segments(query, extra_segment=True)))
    moved = segments(query, extra_segment=True).replace("data/profiles.csv", "data/other.csv")
    head = load(with_segments(moved))
    found = check_access(base, head, "mark@contoso.com")
    assert [(v.change.kind, v.change.name, v.change.required) for v in found] == [
        ("Source", "profiles", "admins")
    ]
    unused = segments(query, extra_segment=True).replace("table: profiles", "query: SELECT 1")
    assert check_access(base, load(with_segments(unused)), "eve@contoso.com") == []


# --- against a real repository: base branch, feature branch, authors of changed files ---


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    for path, text in files().items():
        repo.write(path, text)
    repo.commit(JANE, "initial declarations")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def write_all(repo: GitRepo, texts: dict[str, str]) -> None:
    for path, text in texts.items():
        repo.write(path, text)


def test_default_base_and_config_at_ref(repo: GitRepo) -> None:
    main = repo.git("rev-parse", "main")
    write_all(repo, files(vip_mode="add_only"))
    repo.commit(MARK, "add_only")
    assert default_base(repo.path, NO_ENV) == main
    config = config_at_ref(repo.path, "main", Path("exports"))
    assert config is not None
    assert config.exports["vip-to-klaviyo"].mode == "mirror"
    assert config_at_ref(repo.path, "main", Path("nothing-here")) is None


def test_changed_files_authors(repo: GitRepo) -> None:
    write_all(repo, files(vip_mode="add_only"))
    repo.commit(MARK, "add_only")
    write_all(repo, files(vip_mode="add_only", marketing_name="New name"))
    repo.commit(JANE, "rename connection")
    authors = changed_files_authors(repo.path, "main", "exports")
    assert authors == {
        "exports/exports.yaml": {"mark@contoso.com"},
        "exports/connections.yaml": {"jane@contoso.com"},
    }


def test_access_problems_checks_the_git_authors_of_each_file(repo: GitRepo) -> None:
    write_all(repo, files(vip_mode="add_only", open_mode="add_only"))
    repo.commit(MARK, "both exports add_only")
    write_all(repo, files(vip_mode="add_only", open_mode="add_only", marketing_name="X"))
    repo.commit(JANE, "rename connection")
    report = access_report(repo.path / "exports", None, None, env=NO_ENV)
    assert report.authors is not None and report.authors.source == "git authors"
    assert report.problems == [
        "mark@contoso.com changed export vip-to-klaviyo (exports/exports.yaml), which uses "
        "connection klaviyo-marketing (usable_by: admins); mark@contoso.com is not in "
        "Access.admins"
    ]


def test_explicit_actor_wins(repo: GitRepo) -> None:
    write_all(repo, files(vip_mode="add_only"))
    repo.commit(MARK, "add_only")
    assert access_problems(repo.path / "exports", "main", "jane@contoso.com") == []
    found = access_problems(repo.path / "exports", "main", "eve@contoso.com")
    assert len(found) == 1 and found[0].startswith("eve@contoso.com changed export")


def test_github_actor_in_a_pull_request(repo: GitRepo) -> None:
    write_all(repo, files(vip_mode="add_only"))
    repo.commit(JANE, "add_only")
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_ACTOR": "octocat"}
    authors = authors_to_check(repo.path, "main", "exports", None, env)
    assert authors.source == "GITHUB_ACTOR" and authors.of("anything") == {"octocat"}
    report = access_report(repo.path / "exports", "main", None, env=env)
    assert [v.author for v in report.violations] == ["octocat"]  # a contributor, admins-only
    push = {"GITHUB_EVENT_NAME": "push", "GITHUB_ACTOR": "octocat"}
    assert authors_to_check(repo.path, "main", "exports", None, push).source == "git authors"


def test_uncommitted_changes_count_as_the_local_git_user(repo: GitRepo) -> None:
    write_all(repo, files(marketing_name="Uncommitted"))
    report = access_report(repo.path / "exports", "main", None, env=NO_ENV)
    assert [v.author for v in report.violations] == ["local@contoso.com"]
    assert "changed connection klaviyo-marketing" in report.problems[0]


def test_no_access_document_warns(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "open")
    write_all(repo, files(access_text=None))
    repo.commit(JANE, "init")
    repo.git("checkout", "-q", "-b", "feature")
    write_all(repo, files(access_text=None, vip_mode="add_only"))
    repo.commit(MARK, "change")
    report = access_report(repo.path / "exports", None, None, env=NO_ENV)
    assert report.problems == []
    assert any("no Access document" in w for w in report.warnings)


def test_no_base_branch_warns(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "lonely", branch="trunk")
    write_all(repo, files())
    repo.commit(MARK, "init")
    report = access_report(repo.path / "exports", None, None, env=NO_ENV)
    assert report.base is None and report.problems == []
    assert any("no base branch" in w for w in report.warnings)


def test_invalid_base_is_warned_about(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "main")
    repo.write("exports/broken.yaml", "kind: Export\nname: [\n")
    repo.commit(JANE, "broken main")
    repo.git("checkout", "-q", "-b", "fix")
    (repo.path / "exports" / "broken.yaml").unlink()
    repo.commit(JANE, "fix")
    report = access_report(repo.path / "exports", "main", None, env=NO_ENV)
    assert any("are invalid" in w for w in report.warnings)
    assert report.problems == []  # Jane is an admin: she may (re)declare everything


def test_missing_or_invalid_working_tree_is_left_to_validation(repo: GitRepo) -> None:
    repo.write("exports/exports.yaml", "kind: Export\nname: [\n")
    report = access_report(repo.path / "exports", "main", "eve@contoso.com", env=NO_ENV)
    assert report.problems == [] and any("invalid" in w for w in report.warnings)
    report = access_report(repo.path / "elsewhere", "main", "eve@contoso.com", env=NO_ENV)
    assert report.problems == [] and any("invalid" in w for w in report.warnings)
