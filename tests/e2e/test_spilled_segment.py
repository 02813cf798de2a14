"""A segment large enough to spill (its emails in a private file, read back a batch at a time)
plans and applies as one held in memory: adds, removals, field updates, convergence. Here the
thresholds are lowered so that a few dozen rows take the large-segment paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import lookup, spill
from reconciler.klaviyo import columns
from reconciler.sources import collect
from tests.e2e.conftest import Harness
from tests.e2e.workspace import emails


def _rows(people: list[str], tier: str) -> list[dict[str, object]]:
    return [{"email": e, "first_name": f"N{i}", "tier": tier} for i, e in enumerate(people)]


@pytest.mark.parametrize("spilled", [True, False])
def test_a_spilled_segment_plans_and_converges(
    harness: Harness, spilled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if spilled:
        monkeypatch.setattr(collect, "SPILL_AT", 1)
        monkeypatch.setattr(columns, "SPILL_IDS_AT", 1)  # the list's full read: its ids too
        monkeypatch.setattr(spill, "BATCH", 4)
    monkeypatch.setattr(lookup, "SLICE", 3)  # the keyed lookups of large columns
    monkeypatch.setattr(lookup, "PIECE", 5)
    harness.server.admin.seed("SpL001", emails("p", 30))
    people = emails("p", 40, start=10)  # p.10 .. p.49: 20 to add, p.0 .. p.9 to remove
    harness.workspace.write_rows("big", _rows(people, "gold"))
    harness.workspace.add_export(
        "big",
        "big",
        "SpL001",
        mode="mirror",
        fields={"email": "email", "first_name": "first_name", "properties": {"tier": "tier"}},
        limits={"max_removals": 100},
    )
    harness.workspace.write_config()
    code, plan = harness.plan_json()
    (export,) = plan["exports"]
    assert code == 0, export
    assert (export["add"], export["remove"], export["update"]) == (20, 10, 20)
    applied = harness.run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert harness.members("SpL001") == set(people)
    rows = _rows(people, "gold")
    rows[3]["tier"] = "silver"  # one field changed
    harness.workspace.write_rows("big", rows[:-2])  # two members leave
    code, plan = harness.plan_json()
    (export,) = plan["exports"]
    assert (export["add"], export["remove"], export["update"], export["incremental"]) == (
        0,
        2,
        1,
        True,
    )
    assert export["updated_fields"] == {"properties.tier": 1}
    assert harness.run("apply", "--yes").exit_code == 0
    code, plan = harness.plan_json("--detailed-exitcode")
    assert code == 0, plan


@pytest.mark.parametrize(
    ("spills", "says", "cached"),
    [
        ((collect, "SPILL_AT"), "its emails could not be kept in a temporary file", True),
        ((columns, "SPILL_IDS_AT"), "the list's profile ids could not be kept", False),
    ],
)
def test_a_temporary_directory_that_cannot_take_a_column_blocks_the_export(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spills: tuple[object, str],
    says: str,
    cached: bool,
) -> None:
    """The segment's emails or the list's ids (a full read's) go to a temporary file: one
    that cannot be written is a precise reason, and nothing is cached half-written (the list
    is cached only when its own read went through)."""
    monkeypatch.setattr(*spills, 1)
    monkeypatch.setattr(spill, "DIRECTORY", str(tmp_path / "missing"))
    harness.server.admin.seed("SpL002", emails("p", 3))
    harness.workspace.write_rows("big", _rows(emails("p", 5), "gold"))
    harness.workspace.add_export("big", "big", "SpL002")
    harness.workspace.write_config()
    code, plan = harness.plan_json()
    (export,) = plan["exports"]
    assert code == 1
    reasons = " ".join(export["reasons"])
    assert says in reasons and "point TMPDIR at a larger disk" in reasons
    monkeypatch.setattr(spill, "DIRECTORY", None)
    code, plan = harness.plan_json()
    (export,) = plan["exports"]
    assert code == 0 and export["incremental"] is cached
    assert (export["add"], export["unchanged"]) == (2, 3)
