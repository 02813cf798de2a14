"""Members who left the list outside the reconciler are not silently re-imported (issue 18),
over a real socket through the CLI: an unsubscribe from a campaign sent to the list, a
deleted profile, a user's removal of the list's suppressed profiles, a merge. The plan names
them "left outside the reconciler" (count, masked samples), does not re-add them, and
converges: ``plan --detailed-exitcode`` exits 0 once nothing else changes.

On main before this change every one of them was in the plan's adds, run after run (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.emails import mask_email
from tests.e2e.conftest import Harness
from tests.e2e.workspace import emails
from tests.fidelity.engine_support import fidelity_harness

LIST = "Dep001"


def entry(harness: Harness) -> tuple[int, dict[str, Any]]:
    code, body = harness.plan_json("--detailed-exitcode")
    found: dict[str, Any] = body["exports"][0]
    return code, found


def admin(harness: Harness, path: str, body: dict[str, Any]) -> Any:
    response = harness.server.admin._client.post(f"/_sandbox/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def synced(harness: Harness, kept: list[str], new: list[str]) -> None:
    """The list holds ``kept``; the segment is ``kept`` + ``new``; one apply, one clean plan."""
    harness.server.admin.seed(LIST, kept)
    harness.workspace.write_members("seg", kept + new)
    harness.workspace.add_export("dep", "seg", LIST)
    harness.workspace.write_config()
    result = harness.run("apply", "--yes")
    assert result.exit_code == 0, result.output


def test_members_who_left_after_a_read_are_named_and_not_re_added(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path) as harness:
        kept, new = emails("kept", 6), emails("new", 3)
        synced(harness, kept, new)
        assert entry(harness)[0] == 0  # this read sees the imported members
        # Klaviyo removes them by itself: an unsubscribe from a campaign sent to the list,
        # a deleted profile, a user's "remove suppressed profiles" after a global unsubscribe
        admin(harness, "profiles/unsubscribe", {"emails": [kept[0]], "list_id": LIST})
        admin(harness, "profiles/delete", {"emails": [new[0]]})
        admin(harness, "profiles/unsubscribe", {"emails": [kept[1]]})
        admin(harness, f"lists/{LIST}/remove-suppressed", {})
        gone = {kept[0], kept[1], new[0]}
        assert harness.members(LIST) == set(kept + new) - gone

        for _ in range(2):  # converged, and stays so
            code, found = entry(harness)
            assert code == 0, found  # main: 2, the three in the adds
            assert (found["add"], found["remove"], found["left_outside"]) == (0, 0, 3)
            assert set(found["left_outside_samples"]) == {mask_email(e) for e in gone}
            assert not set(found["left_outside_samples"]) & gone  # masked
        text = harness.run("plan").stdout
        assert "3 left outside the reconciler" in text and kept[0] not in text
        assert harness.run("apply", "--yes").exit_code == 0
        assert harness.members(LIST) == set(kept + new) - gone


def test_imported_members_removed_before_any_read_are_not_re_added(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path) as harness:
        kept, new = emails("kept", 4), emails("new", 4)
        synced(harness, kept, new)
        # removed before the reconciler read the list again: only the import knows them
        admin(harness, "profiles/unsubscribe", {"emails": [new[1]], "list_id": LIST})
        code, found = entry(harness)
        assert code == 0, found  # main: 2, new[1] re-added
        assert (found["add"], found["left_outside"]) == (0, 1)


def test_a_departed_member_who_comes_back_is_a_member_again(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path) as harness:
        kept = emails("kept", 4)
        synced(harness, kept, [])
        admin(harness, "profiles/unsubscribe", {"emails": [kept[2]], "list_id": LIST})
        assert entry(harness)[1]["left_outside"] == 1
        harness.server.admin.seed(LIST, [kept[2]])  # re-joined by a sign-up form
        code, found = entry(harness)
        assert code == 0 and found["left_outside"] == 0
        harness.server.admin.remove(LIST, [kept[2]])  # a new departure is noticed again
        assert entry(harness)[1]["left_outside"] == 1


def test_a_merged_away_address_is_not_re_imported(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path) as harness:
        kept = emails("kept", 4)
        synced(harness, kept, [])
        # Klaviyo merges kept[3] into kept[0] (they shared an identifier): kept[3] is gone
        admin(harness, "profiles/merge", {"into": kept[0], "from": kept[3]})
        code, found = entry(harness)
        assert code == 0, found  # main: 2, kept[3] imported again (a new, second profile)
        assert (found["add"], found["remove"], found["left_outside"]) == (0, 0, 1)
