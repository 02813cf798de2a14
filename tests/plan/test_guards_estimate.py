"""Safety guards and rate-tier estimates: pure functions on the plan's inputs."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.klaviyo.facts import FACTS
from reconciler.models import Consent, EnvRef, Export, Fields, KlaviyoConnection, Limits
from reconciler.plan.estimate import apply_estimate, fixed_window_seconds, read_estimate
from reconciler.plan.guards import evaluate_guards, removal_allowance
from reconciler.values import Rate


def make_export(**limits: object) -> Export:
    return Export(
        kind="Export",
        name="vip",
        segment="seg",
        connection="conn",
        list_id="Y6nRLr",
        fields=Fields(email="email"),
        limits=Limits(**limits),  # type: ignore[arg-type]
    )


def make_connection(accepted: bool = True) -> KlaviyoConnection:
    return KlaviyoConnection(
        kind="Connection",
        name="conn",
        api_key=EnvRef(env="KEY"),
        consent=Consent(
            accepted=accepted, accepted_by="jane@contoso.com", accepted_at=dt.date(2026, 11, 20)
        ),
    )


def guards(
    export: Export,
    *,
    desired: int,
    current: int,
    removals: int,
    force: bool = False,
    accepted: bool = True,
) -> dict[str, tuple[bool, bool]]:
    found = evaluate_guards(
        export,
        make_connection(accepted),
        desired=desired,
        current=current,
        removals=removals,
        force=force,
    )
    return {g.name: (g.tripped, g.forced) for g in found}


def test_default_removal_threshold_is_30_percent_from_ten_members() -> None:
    export = make_export()
    assert removal_allowance(export, 9) is None
    assert removal_allowance(export, 10) == 3
    assert removal_allowance(export, 1000) == 300
    assert removal_allowance(make_export(max_removals=5), 1000) == 5


def test_removals_over_threshold_block_and_force_overrides() -> None:
    export = make_export()
    assert guards(export, desired=700, current=1000, removals=300)["max_removals"] == (False, False)
    assert guards(export, desired=600, current=1000, removals=301)["max_removals"] == (True, False)
    assert guards(export, desired=600, current=1000, removals=301, force=True)["max_removals"] == (
        True,
        True,
    )


def test_max_profiles_defaults_to_the_old_tools_cap() -> None:
    export = make_export()
    assert guards(export, desired=100_000, current=0, removals=0)["max_profiles"] == (False, False)
    assert guards(export, desired=100_001, current=0, removals=0)["max_profiles"] == (True, False)
    raised = make_export(max_profiles=2_000_000)
    assert guards(raised, desired=1_000_000, current=0, removals=0)["max_profiles"] == (
        False,
        False,
    )


def test_empty_segment_never_empties_a_list_unless_allowed() -> None:
    assert guards(make_export(), desired=0, current=5, removals=5)["allow_empty"] == (True, False)
    assert guards(make_export(allow_empty=True), desired=0, current=5, removals=5)[
        "allow_empty"
    ] == (False, False)
    assert guards(make_export(), desired=0, current=0, removals=0)["allow_empty"] == (False, False)


def test_missing_consent_cannot_be_forced() -> None:
    found = guards(make_export(), desired=1, current=0, removals=0, force=True, accepted=False)
    assert found["consent"] == (True, False)


@pytest.mark.parametrize(
    ("requests", "burst", "steady", "seconds"),
    [
        (0, 75, 750, 0.0),
        (1, 75, 750, 0.0),
        (75, 75, 750, 0.0),
        (76, 75, 750, 1.0),
        (750, 75, 750, 9.0),
        (751, 75, 750, 60.0),
        (1000, 75, 750, 63.0),
        (150, 10, 150, 14.0),
        (151, 10, 150, 60.0),
    ],
)
def test_fixed_window_minimum(requests: int, burst: int, steady: int, seconds: float) -> None:
    assert fixed_window_seconds(requests, Rate(burst, steady)) == seconds


def test_apply_and_read_estimates() -> None:
    est = apply_estimate(25_000, 5_000, FACTS)
    assert est.calls == 3 * 2 + 5
    assert est.seconds == round(25_000 / FACTS.import_rate.high, 1)  # type: ignore[union-attr]
    assert apply_estimate(1_000_000, 0, FACTS).calls == 200
    assert read_estimate(100_000, FACTS) == (1000, 63.0)
