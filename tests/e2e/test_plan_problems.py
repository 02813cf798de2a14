"""One problem does not hide the next: what can be checked without Klaviyo is reported
alongside a connection that cannot be used (issue 14, "one problem hides the next")."""

from __future__ import annotations

import json

from click.testing import CliRunner

from reconciler.cli.main import cli
from tests.e2e.conftest import Harness
from tests.e2e.workspace import KEY_ENV, emails


def _plan_without_key(harness: Harness) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(
        cli,
        ["plan", "--format", "json", "--config-dir", str(harness.workspace.config_dir)],
        env={KEY_ENV: None},
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(result.stdout)


def _reasons(plan: dict[str, object]) -> list[str]:
    (export,) = plan["exports"]  # type: ignore[misc]
    reasons: list[str] = export["reasons"]
    return reasons


def test_unset_key_and_missing_email_column_are_reported_together(harness: Harness) -> None:
    harness.workspace.write_members("people", emails("p", 3))
    harness.workspace.add_export("newsletter", "people", "Y6nRLr", fields={"email": "mail"})
    harness.workspace.write_config()
    code, plan = _plan_without_key(harness)
    text = " | ".join(_reasons(plan))
    assert code == 1
    assert f"environment variable {KEY_ENV} is not set" in text
    assert "fields.email -> 'mail'" in text


def test_unset_key_and_a_profile_cap_the_segment_crosses(harness: Harness) -> None:
    harness.workspace.write_members("people", emails("p", 5))
    harness.workspace.add_export("newsletter", "people", "Y6nRLr", limits={"max_profiles": 2})
    harness.workspace.write_config()
    code, plan = _plan_without_key(harness)
    reasons = _reasons(plan)
    assert code == 1
    assert any(f"{KEY_ENV} is not set" in r for r in reasons)
    assert any("limits.max_profiles" in r and "5 profiles" in r for r in reasons)
    (export,) = plan["exports"]  # type: ignore[misc]
    assert export["desired"] == 5  # type: ignore[index]
