"""Plan/apply races beyond tests/e2e (which covers a member added in Klaviyo and a row added to
the segment): the world changing between ``plan --out`` and ``apply PLANFILE`` makes the apply
refuse the plan as stale and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import LIST, FaultRig

pytestmark = pytest.mark.faults

Change = Callable[[FaultRig], None]


def _member_removed_elsewhere(rig: FaultRig) -> None:
    rig.server.admin.remove(LIST, ["kept.3@example.com"])


def _planned_removal_done_elsewhere(rig: FaultRig) -> None:
    rig.server.admin.remove(LIST, ["gone.1@example.com"])


def _planned_addition_done_elsewhere(rig: FaultRig) -> None:
    rig.server.admin.seed(LIST, ["new.2@example.com"])


def _row_field_changed(rig: FaultRig) -> None:
    rows = [{"email": e, "first_name": "Ann"} for e in sorted(rig.desired)]
    rows[0]["first_name"] = "Bob"
    rig.harness.workspace.write_rows("seg", rows)


def _guard_changed(rig: FaultRig) -> None:
    ws = rig.harness.workspace
    ws.exports[0]["limits"] = {"max_removals": 5}
    ws.write_config()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_member_removed_elsewhere, "membership changed in Klaviyo"),
        (_planned_removal_done_elsewhere, "membership changed in Klaviyo"),
        (_planned_addition_done_elsewhere, "membership changed in Klaviyo"),
        (_row_field_changed, "segment content changed"),
        (_guard_changed, "its configuration changed"),
    ],
    ids=["member-removed", "removal-done", "addition-done", "field-changed", "guard-changed"],
)
def test_change_between_plan_and_apply_makes_the_plan_stale(
    rig: FaultRig, tmp_path: Path, change: Change, why: str
) -> None:
    rig.setup(keep=40, drop=10, new=20, fields={"email": "email", "first_name": "first_name"})
    planfile = tmp_path / "plan.json"
    assert rig.harness.run("plan", "--out", str(planfile)).exit_code == 0
    change(rig)
    before = rig.server.admin.members(LIST)
    result = rig.apply(str(planfile))
    assert result.exit_code == 1
    assert "stale" in result.stderr and why in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert rig.server.admin.members(LIST) == before
    assert rig.server.admin.stats()["bulk_jobs"] == 0
    [run] = rig.runs()
    assert run["outcome"] == "failed" and run["command"] == "apply PLANFILE"
