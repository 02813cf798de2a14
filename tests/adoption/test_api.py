"""The public Python API: the typed values the CLI renders, end to end against the sandbox."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from reconciler import api
from reconciler.engine.applying import ApplyReport
from reconciler.errors import ConfigError, StalePlanError
from reconciler.notify import Delivery
from reconciler.plan.model import Plan
from tests.adoption.conftest import KEY_ENV, Repo, addresses, export
from tests.conftest import SANDBOX_KEY, SANDBOX_TIME_SCALE


def settings(repo: Repo) -> dict[str, Any]:
    return {
        "state": str(repo.state),
        "base_url": repo.server.base_url,
        "time_scale": SANDBOX_TIME_SCALE,
        "env": {KEY_ENV: SANDBOX_KEY},
    }


def test_validate_returns_the_config_and_every_problem(repo: Repo) -> None:
    repo.write({"vip": []}, [export("vip", "vip", "Api001", enabled=False)])
    result = api.validate(repo.config_dir)
    assert result.ok and result.config is not None
    assert set(result.config.exports) == {"vip"}
    assert [p.code for p in result.warnings] == ["W001"] and result.errors == []
    (repo.config_dir / "broken.yaml").write_text("kind: Export\nname: x\n")
    broken = api.validate(repo.config_dir)
    assert not broken.ok and broken.config is None
    assert all(p.file.endswith("broken.yaml") for p in broken.errors) and broken.errors


def test_plan_then_apply_that_plan(repo: Repo) -> None:
    members = addresses("m", 3)
    repo.seed_list("Api002", "Api", members)
    repo.write({"vip": [*members[1:], *addresses("n", 2)]}, [export("vip", "vip", "Api002")])
    plan = api.plan(repo.config_dir, **settings(repo))
    assert isinstance(plan, Plan) and plan.has_changes
    (vip,) = plan.exports
    assert (len(vip.add), len(vip.remove), vip.blocked) == (2, 1, False)
    report = api.apply(repo.config_dir, plan=plan, **settings(repo))
    assert isinstance(report, ApplyReport) and not report.failed
    assert [(o.name, o.added, o.removed, o.outcome) for o in report.outcomes] == [
        ("vip", 2, 1, "succeeded")
    ]
    assert repo.server.admin.members("Api002") == {*members[1:], *addresses("n", 2)}
    # the same typed errors as the CLI: an old plan is refused
    with pytest.raises(StalePlanError):
        api.apply(repo.config_dir, plan=plan, **settings(repo))
    assert not api.plan(repo.config_dir, **settings(repo)).has_changes


def test_errors_are_typed_and_nothing_is_printed(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write({"vip": []}, [export("vip", "nope", "Api003")])
    with pytest.raises(ConfigError) as raised:
        api.plan(repo.config_dir, **settings(repo))
    assert any(p.code == "R021" for p in raised.value.problems)
    assert capsys.readouterr() == ("", "")


def test_apply_reports_deliveries_to_a_callback_or_the_log(
    repo: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    repo.seed_list("Api004", "Api", addresses("m", 10))
    notification = {"kind": "Notification", "name": "ops", "webhook": {"env": "API_HOOK"}}
    repo.write({"none": []}, [export("empty", "none", "Api004")], [notification])
    seen: list[Delivery] = []
    report = api.apply(repo.config_dir, on_delivery=seen.append, **settings(repo))
    assert report.failed  # blocked by allow_empty
    assert [(d.notification, d.events, d.sent) for d in seen] == [("ops", ("blocked",), False)]
    with caplog.at_level(logging.WARNING, logger="reconciler.notify"):
        api.apply(repo.config_dir, **settings(repo))
    assert "notification ops was not sent: environment variable API_HOOK" in caplog.text
