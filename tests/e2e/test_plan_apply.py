"""plan and apply end to end against the sandbox over a real socket."""

from __future__ import annotations

from pathlib import Path

from reconciler.plan.planfile import read_plan, write_plan
from reconciler.plan.rows import MemberRows
from tests.e2e.conftest import Harness
from tests.e2e.workspace import emails


def by_name(body: dict[str, object], name: str) -> dict[str, object]:
    return next(e for e in body["exports"] if e["name"] == name)  # type: ignore[attr-defined, index]


def test_25k_adds_5k_removes_converge_and_stay_converged(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", emails("a", 20_000))
    desired = emails("a", 40_000, start=5_000)
    ws.write_members("vip", desired)
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()

    code, body = harness.plan_json("--detailed-exitcode")
    entry = by_name(body, "vip")
    assert code == 2
    assert (entry["add"], entry["remove"], entry["unchanged"]) == (25_000, 5_000, 15_000)

    result = harness.run("apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "added 25,000, removed 5,000, failed 0" in result.stdout
    assert harness.members("Y6nRLr") == set(desired)

    code, body = harness.plan_json("--detailed-exitcode")
    assert code == 0
    assert (by_name(body, "vip")["add"], by_name(body, "vip")["remove"]) == (0, 0)
    again = harness.run("apply", "--yes")
    assert again.exit_code == 0
    assert "unchanged" in again.stdout


def test_add_only_never_removes(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Xk3Pq9", emails("old", 50))
    ws.write_members("news", emails("new", 30))
    ws.add_export("news", "news", "Xk3Pq9", mode="add_only")
    ws.write_config()
    code, body = harness.plan_json()
    assert code == 0
    assert (by_name(body, "news")["add"], by_name(body, "news")["remove"]) == (30, 0)
    assert harness.run("apply", "--yes").exit_code == 0
    assert harness.members("Xk3Pq9") == set(emails("old", 50)) | set(emails("new", 30))


def test_removal_guard_blocks_then_force_applies(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", emails("a", 100))
    ws.write_members("vip", emails("a", 50))
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    code, body = harness.plan_json()
    entry = by_name(body, "vip")
    assert code == 1 and entry["blocked"] is True
    assert "max_removals" in entry["reasons"][0]  # type: ignore[index]
    blocked = harness.run("apply", "--yes")
    assert blocked.exit_code == 1
    assert len(harness.members("Y6nRLr")) == 100
    forced = harness.run("apply", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert "--force" in forced.stderr
    assert harness.members("Y6nRLr") == set(emails("a", 50))
    runs = harness.run("runs", "--format", "json", "--state", str(harness.state))
    assert "max_removals" in runs.stdout


def test_profile_cap_and_empty_segment_guards(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Aa1Bb2", emails("e", 20))
    ws.write_members("big", emails("b", 30))
    ws.write_rows("empty", [])
    ws.add_export("big", "big", "Bb2Cc3", limits={"max_profiles": 10})
    ws.add_export("empty", "empty", "Aa1Bb2")
    harness.server.admin.seed("Bb2Cc3", [])
    ws.write_config()
    code, body = harness.plan_json()
    assert code == 1
    assert "max_profiles" in by_name(body, "big")["reasons"][0]  # type: ignore[index]
    assert any("segment is empty" in r for r in by_name(body, "empty")["reasons"])  # type: ignore[attr-defined]
    assert harness.run("apply", "--yes").exit_code == 1
    assert harness.members("Aa1Bb2") == set(emails("e", 20))
    assert harness.run("apply", "--yes", "--force").exit_code == 0
    assert harness.members("Aa1Bb2") == set()
    assert harness.members("Bb2Cc3") == set(emails("b", 30))


def test_saved_plan_applies_exactly_and_refuses_stale_or_tampered(
    harness: Harness, tmp_path: Path
) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", emails("a", 10))
    ws.write_members("vip", emails("a", 12))
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    planfile = tmp_path / "plan.json"
    assert harness.run("plan", "--out", str(planfile)).exit_code == 0

    tampered = tmp_path / "tampered.json"
    saved = read_plan(planfile)
    more = MemberRows.of([*saved.exports[0].add, "intruder@example.com"])
    edited = saved.exports[0].model_copy(update={"adds": more})
    write_plan(saved.model_copy(update={"exports": (edited,)}), tampered)  # the old checksum
    refused = harness.run("apply", str(tampered), "--yes")
    assert refused.exit_code == 1 and "checksum" in refused.stderr

    harness.server.admin.seed("Y6nRLr", ["walk.in@example.com"])
    stale = harness.run("apply", str(planfile), "--yes")
    assert stale.exit_code == 1
    assert "stale" in stale.stderr and "plan" in stale.stderr
    assert "a.11@example.com" not in harness.members("Y6nRLr")

    assert harness.run("plan", "--out", str(planfile)).exit_code == 0
    ws.write_members("vip", emails("a", 13))
    assert harness.run("apply", str(planfile), "--yes").exit_code == 1

    assert harness.run("plan", "--out", str(planfile)).exit_code == 0
    applied = harness.run("apply", str(planfile), "--yes")
    assert applied.exit_code == 0, applied.output
    assert harness.members("Y6nRLr") == set(emails("a", 13))


def test_two_exports_on_two_lists_in_one_run_and_errors_stay_per_export(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    harness.server.admin.seed("Xk3Pq9", [])
    ws.write_members("one", emails("one", 40))
    ws.write_members("two", emails("two", 60))
    ws.add_export("one", "one", "Y6nRLr")
    ws.add_export("two", "two", "Xk3Pq9")
    ws.add_export("ghost", "two", "Nope00")
    ws.write_config()
    code, body = harness.plan_json()
    assert code == 1
    assert "Nope00" in by_name(body, "ghost")["reasons"][0]  # type: ignore[index]
    result = harness.run("apply", "--yes")
    assert result.exit_code == 1
    assert harness.members("Y6nRLr") == set(emails("one", 40))
    assert harness.members("Xk3Pq9") == set(emails("two", 60))


def test_markdown_plan_for_pull_requests(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    ws.write_members("vip", emails("person", 500))
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    result = harness.run("plan", "--format", "markdown")
    assert result.exit_code == 0
    assert "| `vip` | `Y6nRLr` | 500 |" in result.stdout
    assert "@example.com" in result.stdout and "person.1@example.com" not in result.stdout


def test_bulk_import_with_some_bad_profiles_reports_each_and_imports_the_rest(
    harness: Harness,
) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    good = emails("good", 40)
    bad = emails("bad", 3)
    # each its own phone number: a phone number is an identifier, and a row whose email and
    # phone name two different profiles is refused by Klaviyo (and the sandbox, issue 18)
    rows = [{"email": e, "phone": f"+1500555{n:04d}"} for n, e in enumerate(good)]
    rows += [{"email": e, "phone": "not-a-phone"} for e in bad]
    ws.write_rows("vip", rows)
    ws.add_export("vip", "vip", "Y6nRLr", fields={"email": "email", "phone_number": "phone"})
    ws.write_config()

    result = harness.run("apply", "--yes")
    assert result.exit_code == 1
    assert "partial; added 40, removed 0, failed 3" in result.stdout
    assert result.stdout.count("failed: b***") == 3  # b***0@, b***1@, b***2@: distinct samples
    assert "bad.0@example.com" not in result.output
    assert harness.members("Y6nRLr") == set(good)
    code, body = harness.plan_json("--detailed-exitcode")
    assert code == 2
    assert by_name(body, "vip")["add"] == 3


def test_apply_due_honours_schedules_from_the_journal(harness: Harness) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    harness.server.admin.seed("Xk3Pq9", [])
    ws.write_members("yearly", emails("y", 5))
    ws.write_members("always", emails("w", 5))
    ws.add_export("yearly", "yearly", "Y6nRLr", schedule="0 0 1 1 *")
    ws.add_export("always", "always", "Xk3Pq9")
    ws.write_config()
    first = harness.run("apply", "--yes", "--due")
    assert first.exit_code == 0
    assert "yearly -> Y6nRLr: succeeded" in first.stdout
    assert "always -> Xk3Pq9: succeeded" in first.stdout
    second = harness.run("apply", "--yes", "--due")
    assert second.exit_code == 0
    assert "yearly -> " not in second.stdout  # not run, only named as skipped:
    assert "yearly: skipped, not due (next due " in second.stdout
    assert "always -> Xk3Pq9: unchanged" in second.stdout
    on_demand = harness.run("apply", "--yes", "--export", "yearly")
    assert "yearly -> Y6nRLr: unchanged" in on_demand.stdout
