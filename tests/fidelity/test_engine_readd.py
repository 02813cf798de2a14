"""``external_removals: readd`` re-adds members who left outside the reconciler, once (issue 13);
``plan --readd-departed`` shows what it would do. Over a real socket through the CLI.

Before this change ``respect`` was the only behaviour: the plan never re-added a departed
member, whatever the export said.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.workspace import emails
from tests.fidelity.engine_support import fidelity_harness
from tests.fidelity.test_engine_departures import LIST, admin, entry


def test_readd_re_adds_once_and_a_second_departure_is_respected(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path) as harness:
        people = emails("back", 5)
        harness.server.admin.seed(LIST, people)
        harness.workspace.write_members("seg", people)
        harness.workspace.add_export("dep", "seg", LIST, external_removals="readd")
        harness.workspace.write_config()
        assert harness.run("apply", "--yes").exit_code == 0
        assert entry(harness)[0] == 0

        admin(harness, "profiles/unsubscribe", {"emails": [people[0]], "list_id": LIST})
        code, found = entry(harness)
        assert code == 2 and found["add"] == 1 and found["readd"] == 1
        assert found["left_outside"] == 0
        assert harness.run("apply", "--yes").exit_code == 0
        assert people[0] in harness.members(LIST)  # re-added once
        assert entry(harness)[0] == 0

        # Klaviyo removes it again: reported, not re-added run after run (no flapping)
        admin(harness, "profiles/unsubscribe", {"emails": [people[0]], "list_id": LIST})
        for _ in range(2):
            code, found = entry(harness)
            assert code == 0, found
            assert (found["add"], found["readd"], found["left_outside"]) == (0, 0, 1)
        assert people[0] not in harness.members(LIST)


def test_plan_readd_departed_shows_what_readd_would_do(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path) as harness:
        people = emails("show", 4)
        harness.server.admin.seed(LIST, people)
        harness.workspace.write_members("seg", people)
        harness.workspace.add_export("dep", "seg", LIST)  # respect (the default)
        harness.workspace.write_config()
        assert harness.run("apply", "--yes").exit_code == 0
        admin(harness, "profiles/unsubscribe", {"emails": [people[1]], "list_id": LIST})
        code, found = entry(harness)
        assert code == 0 and found["left_outside"] == 1 and found["add"] == 0
        code, body = harness.plan_json("--detailed-exitcode", "--readd-departed")
        (shown,) = body["exports"]
        assert code == 2 and shown["add"] == 1 and shown["readd"] == 1
        assert harness.run("apply", "--yes").exit_code == 0  # respect: nothing re-added
        assert people[1] not in harness.members(LIST)
