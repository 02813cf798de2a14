"""Plan renderings never hold a full address; plan files refuse tampering; stale plans refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.engine.staleness import check_current
from reconciler.errors import PlanFileError, StalePlanError
from reconciler.plan.model import ConfigChange, GuardResult
from reconciler.plan.planfile import plan_checksum, read_plan, write_plan
from reconciler.plan.render import MARKDOWN_LIMIT, render_json, render_markdown, render_text
from tests.plan.factories import export_plan, plan_of

FULL_EMAIL = re.compile(r"[a-z0-9.]{2,}@example\.(com|org)")


def test_json_has_counts_not_addresses() -> None:
    body = json.loads(render_json(plan_of(export_plan(adds=3, removes=2))))
    entry = body["exports"][0]
    assert (entry["add"], entry["remove"], entry["unchanged"], entry["blocked"]) == (
        3,
        2,
        10,
        False,
    )
    assert set(entry) >= {
        "name",
        "list_id",
        "add",
        "remove",
        "unchanged",
        "invalid",
        "blocked",
        "reasons",
        "estimate",
    }
    assert body["checksum"]
    assert not FULL_EMAIL.search(render_json(plan_of(export_plan())))


@pytest.mark.parametrize("render", [render_text, render_markdown, render_json])
def test_no_rendering_shows_a_full_address(render: object) -> None:
    plan = plan_of(export_plan(adds=50, removes=50))
    text = render(plan)  # type: ignore[operator]
    assert not FULL_EMAIL.search(text)
    if render is not render_json:
        # first and last character and the length class: the samples stay distinguishable
        assert "n****0@example.com" in text and "n****4@example.com" in text


def test_markdown_stays_under_the_comment_limit_however_large() -> None:
    changes = tuple(
        ConfigChange(
            kind="Export",
            name=f"e{i}",
            action="changed",
            details=tuple(f"field{j}: 1 -> 2" for j in range(20)),
        )
        for i in range(2000)
    )
    exports = tuple(export_plan(name=f"export-{i}", adds=5, removes=5) for i in range(300))
    plan = plan_of(*exports).model_copy(update={"config_changes": changes})
    text = render_markdown(plan)
    assert len(text) < MARKDOWN_LIMIT
    assert "truncated" in text
    assert text.startswith("<!-- reconciler-plan -->")


def test_blocked_export_is_shown_with_its_reason() -> None:
    guard = GuardResult(
        name="max_removals", tripped=True, message="5 removals exceed limits.max_removals 3"
    )
    plan = plan_of(export_plan(guards=(guard,)))
    assert plan.has_blocked and not plan.has_changes
    assert "BLOCKED: 5 removals exceed" in render_text(plan)
    assert "blocked" in render_markdown(plan)


def test_plan_file_round_trip_and_permissions(tmp_path: Path) -> None:
    plan = plan_of(export_plan())
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    assert path.stat().st_mode & 0o077 == 0
    assert read_plan(path) == plan


def test_the_checksum_covers_the_header_and_the_columns(tmp_path: Path) -> None:
    plan = plan_of(export_plan(adds=50, removes=7), export_plan(name="other", adds=2))
    assert plan.checksum == plan_checksum(plan)
    other_adds = plan_of(export_plan(adds=50, removes=7), export_plan(name="other", adds=3))
    assert plan_checksum(other_adds) != plan.checksum
    renamed = plan.model_copy(update={"config_dir": "elsewhere"})
    assert plan_checksum(renamed) != plan.checksum
    write_plan(plan, tmp_path / "plan.bin")
    assert read_plan(tmp_path / "plan.bin").checksum == plan.checksum


def test_tampered_plan_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(plan_of(export_plan()), path)
    data = path.read_bytes()
    assert data.count(b'"Y6nRLr"') == 1
    path.write_bytes(data.replace(b'"Y6nRLr"', b'"Zz9Zz9"'))
    with pytest.raises(PlanFileError, match="checksum mismatch"):
        read_plan(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff garbage",
        b"[]",
        b'{"version": 1}',
        b'{"version": 99}',
        b"reconciler-plan 2\n",
    ],
)
def test_malformed_plan_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(PlanFileError):
        read_plan(path)


def test_stale_plan_is_refused_naming_what_changed() -> None:
    saved = plan_of(export_plan())
    fresh = plan_of(
        export_plan(fingerprints=export_plan().fingerprints.model_copy(update={"list": "l2"}))
    )  # type: ignore[union-attr]
    with pytest.raises(StalePlanError, match="membership changed"):
        check_current(saved, fresh)
    segment_changed = plan_of(
        export_plan(fingerprints=export_plan().fingerprints.model_copy(update={"segment": "s2"}))
    )  # type: ignore[union-attr]
    with pytest.raises(StalePlanError, match="segment content changed"):
        check_current(saved, segment_changed)
    check_current(saved, plan_of(export_plan()))
