"""``reconciler lists`` and ``reconciler import`` end to end over a real socket (the sandbox)."""

from __future__ import annotations

import yaml

from reconciler.config import validate_config
from tests.adoption.conftest import Repo, addresses, export


def test_lists_reads_every_page_with_counts_and_targets(repo: Repo) -> None:
    for i in range(13):  # more than one page of 10
        repo.seed_list(f"List{i:02d}", f"Newsletter {i}", addresses(f"l{i}", i))
    repo.write(
        {"vip": ["a@example.com"]},
        [export("vip", "vip", "List03"), export("gone", "vip", "Gone01")],
    )
    report = repo.run_json("lists")
    rows = {row["id"]: row for row in report["lists"]}
    assert len(rows) == 13
    assert rows["List07"]["name"] == "Newsletter 7"
    assert rows["List07"]["members"] == 7
    assert rows["List03"]["exports"] == ["vip"]
    assert rows["List04"]["exports"] == []
    assert all(row["created"] for row in rows.values())
    assert report["missing"] == [{"export": "gone", "list_id": "Gone01"}]
    table = repo.run("lists")
    assert table.exit_code == 0
    line = next(x for x in table.stdout.splitlines() if x.startswith("List03"))
    assert "Newsletter 3" in line and line.rstrip().endswith("vip")
    assert "13 list(s)." in table.stdout
    assert "export gone targets list Gone01, which is not in this account" in table.stdout


def test_lists_without_counts_and_with_an_unknown_connection(repo: Repo) -> None:
    repo.seed_list("Abc123", "Buyers", addresses("b", 3))
    repo.write({"vip": []})
    report = repo.run_json("lists", "--no-counts")
    assert report["lists"] == [
        {
            "id": "Abc123",
            "name": "Buyers",
            "created": report["lists"][0]["created"],
            "members": None,
            "exports": [],
        }
    ]
    failed = repo.run("lists", "--connection", "nope")
    assert failed.exit_code == 1
    assert "connection 'nope' is not declared" in failed.stderr
    assert "declared: klaviyo" in failed.stderr
    assert "Traceback" not in failed.output


def test_import_writes_a_valid_document_and_shows_its_first_plan(repo: Repo) -> None:
    members = addresses("m", 5)
    repo.seed_list("Y6nRLr", "VIP Customers", members)
    repo.write({"vip": [*members[:4], *addresses("new", 3)]})
    result = repo.run("import", "--list-id", "Y6nRLr", "--segment", "vip")
    assert result.exit_code == 0, result.output
    document = result.stdout
    assert document.startswith("# yaml-language-server: $schema=../schemas/export.schema.json\n")
    data = yaml.safe_load(document)
    assert data == {
        "kind": "Export",
        "name": "vip-customers",
        "segment": "vip",
        "connection": "klaviyo",
        "list_id": "Y6nRLr",
        "mode": "mirror",
        "fields": {"email": "email", "first_name": "first_name"},
    }
    plan = result.stderr
    assert "Export vip-customers -> list Y6nRLr" in plan
    assert "+3 add" in plan and "-1 remove" in plan
    assert "note: first plan over list Y6nRLr: it already has 5 members" in plan
    assert "m.4@example.com" not in result.output  # masked samples only
    # committed next to the others, the document validates with the project's own loader
    (repo.config_dir / "vip-customers.yaml").write_text(document)
    config, problems = validate_config(repo.config_dir)
    assert config is not None, problems
    assert repo.run("validate").exit_code == 0
    # nothing was changed in Klaviyo
    assert repo.server.admin.members("Y6nRLr") == set(members)


def test_import_out_file_guards_and_refusals(repo: Repo) -> None:
    members = addresses("m", 20)
    repo.seed_list("Big001", "Big", members)
    repo.write({"few": members[:5]}, [export("other", "few", "Oth001")])
    out = repo.root / "exports" / "adopted.yaml"
    result = repo.run(
        "import",
        "--list-id",
        "Big001",
        "--segment",
        "few",
        "--name",
        "adopted",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert yaml.safe_load(out.read_text())["name"] == "adopted"
    assert '"remove": 15' in result.stderr
    assert "BLOCKED" not in result.stderr and '"blocked": true' in result.stderr  # max_removals
    again = repo.run("import", "--list-id", "Big001", "--segment", "few", "--out", str(out))
    assert again.exit_code == 1 and "already exists" in again.stderr
    # the list is now managed by the written export: a second import is a conflict
    clash = repo.run("import", "--list-id", "Big001", "--segment", "few", "--name", "twice")
    assert clash.exit_code == 1 and "Big001" in clash.stderr
    missing = repo.run("import", "--list-id", "Nope00", "--segment", "few")
    assert missing.exit_code == 1
    assert "list Nope00 does not exist" in missing.stderr and "reconciler lists" in missing.stderr
    bad = repo.run("import", "--list-id", "x", "--segment", "few")
    assert bad.exit_code == 1 and "six letters or digits" in bad.stderr
    for failed in (again, clash, missing, bad):
        assert "Traceback" not in failed.output


def test_the_adoption_note_is_gone_once_a_run_managed_the_list(repo: Repo) -> None:
    members = addresses("m", 4)
    repo.seed_list("Kept01", "Kept", members)
    repo.seed_list("Empty1", "Empty", [])
    repo.write(
        {"all": [*members, "x@example.com"]},
        [export("kept", "all", "Kept01", mode="add_only"), export("fresh", "all", "Empty1")],
    )
    first = repo.run_json("plan")
    notes = {e["name"]: e["notes"] for e in first["exports"]}
    assert notes["fresh"] == []  # an empty list adopts nothing
    assert notes["kept"] == [
        "first plan over list Kept01: it already has 4 members that no run of the reconciler "
        "has managed; add_only keeps all 4 members"
    ]
    applied = repo.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    again = repo.run_json("plan")
    assert all(e["notes"] == [] for e in again["exports"])
