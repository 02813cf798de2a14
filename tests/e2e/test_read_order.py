"""A first plan (no cached membership) reads its list before its segment, so that a large list
and a large segment are never held at once; what is wrong with the segment still shows before
the list's read, and the plan is the one an overlapping read gives."""

from __future__ import annotations

from tests.e2e.conftest import Harness
from tests.e2e.workspace import emails

PAGES = "GET /api/lists/{id}/profiles"


def _pages(harness: Harness) -> int:
    requests: dict[str, int] = harness.server.admin.stats()["requests"]
    return requests.get(PAGES, 0)


def test_a_segment_that_cannot_be_read_fails_before_the_list_is_read(harness: Harness) -> None:
    harness.server.admin.seed("Y6nRLr", emails("old", 30))
    harness.workspace.write_members("people", emails("p", 3))
    harness.workspace.add_export("newsletter", "people", "Y6nRLr", fields={"email": "mail"})
    harness.workspace.write_config()
    code, plan = harness.plan_json()
    (export,) = plan["exports"]
    assert code == 1
    assert any("fields.email -> 'mail'" in reason for reason in export["reasons"])
    assert _pages(harness) == 0  # the list was not read for a plan that cannot be made


def test_a_first_plan_read_in_sequence_matches_the_next_incremental_one(harness: Harness) -> None:
    harness.server.admin.seed("Y6nRLr", emails("p", 40))
    harness.workspace.write_members("people", emails("p", 50, start=10))
    harness.workspace.add_export("newsletter", "people", "Y6nRLr", mode="mirror")
    harness.workspace.write_config()
    code, first = harness.plan_json()
    assert code == 0 and _pages(harness) > 0
    (export,) = first["exports"]
    assert (export["add"], export["remove"], export["incremental"]) == (20, 10, False)
    code, again = harness.plan_json()
    (export,) = again["exports"]
    assert (export["add"], export["remove"], export["incremental"]) == (20, 10, True)
