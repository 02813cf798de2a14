"""A plan file edited and re-sealed by an attacker (valid checksum) can never make apply touch a
list outside the configuration, change anything but the freshly planned difference, or pass a
guard: apply re-plans under its list locks and compares (engine/staleness.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.plan.model import ROW_KINDS, Plan
from reconciler.plan.planfile import plan_checksum, read_plan, write_plan
from tests.e2e.conftest import Harness
from tests.e2e.workspace import Workspace, emails
from tests.plan.factories import with_rows

TARGET, OTHER = "Y6nRLr", "Ot7Her"
Edit = Callable[[dict[str, Any]], None]


def as_raw(plan: Plan) -> dict[str, Any]:
    """The plan as JSON data, each export's members as lists (``add``, ``remove``,
    ``remove_ids``): what an attacker edits."""
    raw: dict[str, Any] = json.loads(plan.model_dump_json())
    for export, ep in zip(raw["exports"], plan.exports, strict=True):
        for kind in ROW_KINDS:
            del export[kind]
        export |= {"add": list(ep.add), "remove": list(ep.remove)}
        export["remove_ids"] = list(ep.remove_ids)
    return raw


def reseal(raw: dict[str, Any]) -> Plan:
    """What an attacker does after editing: build the plan again and recompute its checksum
    (and the file's digest, which write_plan writes) so that both verify again."""
    raw = json.loads(json.dumps(raw))
    exports = raw.get("exports") or []
    for export in exports:
        if not isinstance(export, dict):
            raise ValueError("not an export")
        for key in ("add", "remove", "remove_ids"):
            if not isinstance(export.get(key, []), list):
                raise ValueError(f"{key} is not a list")
    raw["exports"] = [with_rows(export) for export in exports]
    raw["checksum"] = ""
    plan = Plan.model_validate(raw)
    return plan.model_copy(update={"checksum": plan_checksum(plan)})


def prepare(harness: Harness, tmp_path: Path, *, guard_trips: bool = False) -> dict[str, Any]:
    harness.server.admin.seed(TARGET, emails("a", 40))
    harness.server.admin.seed(OTHER, emails("bystander", 25))
    ws = harness.workspace
    ws.write_members("vip", emails("a", 10 if guard_trips else 35) + emails("n", 5))
    ws.add_export("vip", "vip", TARGET, limits={"max_removals": 10})
    ws.write_config()
    planfile = tmp_path / "plan.json"
    assert harness.run("plan", "--out", str(planfile)).exit_code in (0, 1)
    return as_raw(read_plan(planfile))


def attack(harness: Harness, tmp_path: Path, raw: dict[str, Any], edit: Edit) -> tuple[int, str]:
    crafted = json.loads(json.dumps(raw))
    edit(crafted)
    path = tmp_path / "crafted.json"
    write_plan(reseal(crafted), path)
    result = harness.run("apply", str(path), "--yes")
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def untouched(harness: Harness) -> None:
    assert harness.members(TARGET) == set(emails("a", 40))
    assert harness.members(OTHER) == set(emails("bystander", 25))


def _retarget(raw: dict[str, Any]) -> None:
    raw["exports"][0]["list_id"] = OTHER


def _extra_export(raw: dict[str, Any]) -> None:
    evil = dict(raw["exports"][0], name="evil", list_id=OTHER, remove_ids=[], remove=[])
    raw["exports"].append(evil)


def _more_adds(raw: dict[str, Any]) -> None:
    raw["exports"][0]["add"].append("intruder@example.com")


def _more_removals(raw: dict[str, Any]) -> None:
    export = raw["exports"][0]
    export["remove"] = [*export["remove"], "a.0@example.com"]
    export["remove_ids"] = [*export["remove_ids"], "01JZZZZZZZZZZZZZZZZZZZZZZZ"]


def _other_connection(raw: dict[str, Any]) -> None:
    raw["exports"][0]["connection"] = "elsewhere"


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (_retarget, "now targets another list"),
        (_extra_export, "export 'evil' is no longer in the configuration"),
        (_more_adds, "the computed change differs"),
        (_more_removals, "the computed change differs"),
        (_other_connection, "now targets another list or connection"),
    ],
    ids=["retarget", "extra-export", "more-adds", "more-removals", "other-connection"],
)
def test_resealed_plan_is_refused_and_touches_nothing(
    harness: Harness, tmp_path: Path, edit: Edit, why: str
) -> None:
    raw = prepare(harness, tmp_path)
    code, stderr = attack(harness, tmp_path, raw, edit)
    assert code == 1
    assert "stale" in stderr and why in stderr
    untouched(harness)


def test_resealed_plan_cannot_force_a_tripped_guard(harness: Harness, tmp_path: Path) -> None:
    raw = prepare(harness, tmp_path, guard_trips=True)  # 30 removals, the guard allows 10
    assert any(g["tripped"] and g["name"] == "max_removals" for g in raw["exports"][0]["guards"])

    def force_it(plan: dict[str, Any]) -> None:
        plan["forced"] = True
        for guard in plan["exports"][0]["guards"]:
            guard["forced"] = guard["tripped"]

    code, stderr = attack(harness, tmp_path, raw, force_it)
    assert code == 1 and "needs --force as well" in stderr
    untouched(harness)

    def unblock(plan: dict[str, Any]) -> None:
        for guard in plan["exports"][0]["guards"]:
            guard["forced"] = guard["tripped"]

    code, stderr = attack(harness, tmp_path, raw, unblock)
    assert code == 1 and "guards now evaluate differently" in stderr
    untouched(harness)


FIELDS = ["list_id", "connection", "name", "add", "remove", "remove_ids", "mode", "account"]
VALUES = st.one_of(
    st.sampled_from([TARGET, OTHER, "vip", "klaviyo", "mirror", "add_only", ""]),
    st.lists(st.sampled_from(emails("a", 40) + emails("bystander", 3)), max_size=4),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1, max_size=3))
def test_any_resealed_edit_is_refused_or_harmless(
    harness: Harness, tmp_path_factory: pytest.TempPathFactory, changes: dict[str, Any]
) -> None:
    harness.server.admin.reset()
    tmp_path = tmp_path_factory.mktemp("attack")  # a fresh config, state and cache per example
    harness = Harness(harness.server, Workspace(tmp_path), tmp_path / "state.db")
    raw = prepare(harness, tmp_path)
    original = raw["exports"][0]

    def edit(plan: dict[str, Any]) -> None:
        plan["exports"][0].update(changes)

    crafted = json.loads(json.dumps(raw))
    edit(crafted)
    try:
        reseal(crafted)
    except ValueError:
        return  # not even a valid plan: read_plan refuses it (see test_reader_fuzz.py)
    code, _ = attack(harness, tmp_path, raw, edit)
    same = all(original.get(k) == v for k, v in changes.items())
    if code == 0:
        # only an edit that changed nothing the apply compares may go through, and then it
        # applies the fresh plan: exactly the segment, within the guard
        assert same or set(changes) <= {"remove", "mode", "account"}
        assert harness.members(TARGET) == set(emails("a", 35) + emails("n", 5))
    else:
        untouched(harness)
    assert harness.members(OTHER) == set(emails("bystander", 25))
