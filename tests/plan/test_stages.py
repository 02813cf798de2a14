"""The stages an apply is made of: built from the plan, imports first, the wait last."""

from __future__ import annotations

import pytest

from reconciler.engine.stages import Slicing, build_stages
from reconciler.klaviyo.facts import FACTS
from reconciler.plan.model import ExportPlan
from tests.plan.factories import with_rows


def _plan(add: int, remove: int) -> ExportPlan:
    values: dict[str, object] = {
        "name": "e",
        "connection": "c",
        "list_id": "Y6nRLr",
        "mode": "mirror",
        "add": tuple(f"a{i}@example.com" for i in range(add)),
        "remove": tuple(f"r{i}@example.com" for i in range(remove)),
        "remove_ids": tuple(f"P{i}" for i in range(remove)),
    }
    return ExportPlan(**with_rows(values))


@pytest.mark.parametrize(
    ("add", "remove", "names"),
    [
        (3, 2, ["import", "remove", "wait"]),
        (3, 0, ["import", "wait"]),
        (0, 2, ["remove"]),
        (0, 0, []),
    ],
)
def test_stages_follow_the_plan(add: int, remove: int, names: list[str]) -> None:
    assert [s.name for s in build_stages(_plan(add, remove))] == names


def test_default_slices_are_ten_calls_of_the_destination() -> None:
    slicing = Slicing()
    assert slicing.add_size(FACTS) == 10 * FACTS.job_size == 100_000
    assert slicing.remove_size(FACTS) == 10 * FACTS.remove_chunk == 10_000
    assert Slicing(add=7).add_size(FACTS) == 7
    with pytest.raises(ValueError):
        Slicing(remove=0)
