"""The apply estimate counts Klaviyo's import processing, as a range (issue 14)."""

from __future__ import annotations

import json

from reconciler.klaviyo.facts import FACTS, IMPORT_RATE
from reconciler.plan.estimate import apply_estimate, fixed_window_seconds
from reconciler.plan.model import Estimate
from reconciler.plan.render import render_json, render_markdown, render_text
from tests.plan.factories import export_plan, plan_of

MEASURED_ADDS, MEASURED_SECONDS = 49_868, 26.0  # the run


def test_the_measured_import_falls_inside_the_estimated_range() -> None:
    est = apply_estimate(MEASURED_ADDS, 0, FACTS)
    assert est.calls == 10
    assert est.seconds_high is not None
    assert 0 < est.seconds < MEASURED_SECONDS < est.seconds_high
    assert est.seconds == round(MEASURED_ADDS / IMPORT_RATE.high, 1)
    assert est.seconds_high == round(MEASURED_ADDS / IMPORT_RATE.low, 1)


def test_the_rate_tier_minimum_is_added_and_removals_alone_stay_a_minimum() -> None:
    est = apply_estimate(1_000_000, 0, FACTS)
    submit = fixed_window_seconds(100, FACTS.write_rate)
    assert (est.calls, submit) == (200, 9.0)
    assert est.seconds == round(submit + 1_000_000 / IMPORT_RATE.high, 1)
    assert est.seconds_high == round(submit + 1_000_000 / IMPORT_RATE.low, 1)
    removals = apply_estimate(0, 5_000, FACTS)
    assert removals == Estimate(calls=5, seconds=0.0)
    assert apply_estimate(0, 0, FACTS) == Estimate(calls=0, seconds=0.0)


def test_every_rendering_states_the_range() -> None:
    est = apply_estimate(MEASURED_ADDS, 0, FACTS)
    plan = plan_of(export_plan(estimate=est))
    line = "~10 calls, about 16-50s (Klaviyo's import processing, estimated)"
    assert line in render_text(plan)
    assert line in render_markdown(plan)
    shown = json.loads(render_json(plan))["exports"][0]["estimate"]
    assert shown == {"calls": 10, "seconds": est.seconds, "seconds_high": est.seconds_high}


def test_a_tiny_import_renders_without_a_long_digit_run_in_json() -> None:
    plan = plan_of(export_plan(adds=1, estimate=apply_estimate(2, 0, FACTS)))
    shown = json.loads(render_json(plan))["exports"][0]["estimate"]
    assert shown == {"calls": 2, "seconds": 0.0, "seconds_high": 0.0}
    assert "about 0-1s" in render_text(plan)


def test_a_plan_without_imports_keeps_the_minimum_wording() -> None:
    plan = plan_of(export_plan(adds=0, estimate=Estimate(calls=1, seconds=0.0)))
    assert "~1 calls, at least 0s" in render_text(plan)
    shown = json.loads(render_json(plan))["exports"][0]["estimate"]
    assert shown == {"calls": 1, "seconds": 0.0, "seconds_high": 0.0}
