"""Notifications after apply, received by a real HTTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.emails import mask_email
from reconciler.models import Notification
from reconciler.notify import ExportRun, RunSummary, build_message, events_of
from reconciler.state import open_state
from tests.adoption.conftest import Repo, addresses, export
from tests.adoption.receiver import Receiver, webhook_receiver
from tests.conftest import SANDBOX_KEY

HOOK_ENV = "ADOPTION_WEBHOOK_URL"
CI = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/exports",
    "GITHUB_RUN_ID": "4242",
}


def notification(**settings: Any) -> dict[str, Any]:
    return {"kind": "Notification", "name": "alerts", "webhook": {"env": HOOK_ENV}, **settings}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def test_a_blocked_export_is_notified_with_counts_run_and_ci_link(
    repo: Repo, receiver: Receiver
) -> None:
    members = addresses("m", 20)
    repo.seed_list("Block1", "Blocked", members)
    repo.seed_list("Fine01", "Fine", [])
    repo.write(
        {"few": members[:2], "new": addresses("n", 4)},
        [export("shrinks", "few", "Block1"), export("grows", "new", "Fine01")],
        [notification(on=["failed", "blocked"])],
    )
    result = repo.run("apply", "--yes", env={HOOK_ENV: receiver.url, **CI})
    assert result.exit_code == 1  # blocked
    assert "Notification alerts sent (blocked)." in result.stderr
    (message,) = receiver.messages()
    meta = message["reconciler"]
    with open_state(str(repo.state)) as state:
        (run,) = state.journal.list_runs(limit=5)
    assert meta["run_id"] == run.run_id and meta["commit"] == run.commit
    assert meta["events"] == ["blocked"]
    assert meta["ci_url"] == "https://github.com/acme/exports/actions/runs/4242"
    rows = {e["export"]: e for e in meta["exports"]}
    assert (rows["shrinks"]["outcome"], rows["shrinks"]["list_before"]) == ("blocked", 20)
    assert (rows["grows"]["outcome"], rows["grows"]["added"]) == ("succeeded", 4)
    assert message["text"].startswith(":no_entry: reconciler apply partial: blocked")
    assert "<https://github.com/acme/exports/actions/runs/4242|CI run>" in str(message["blocks"])
    assert mask_email(addresses("n", 1)[0]) in message["text"]  # masked samples
    raw = receiver.bodies[0].decode()
    assert not [a for a in [*members, *addresses("n", 4)] if a in raw]  # no address
    assert SANDBOX_KEY not in raw and "secret-token" not in raw


def test_volume_is_notified_and_a_quiet_run_is_not(repo: Repo, receiver: Receiver) -> None:
    members = addresses("m", 20)
    repo.seed_list("Vol001", "Volume", members)
    repo.write(
        {"most": members[:17]},
        [export("trim", "most", "Vol001")],
        [notification(on=["volume"], volume={"removals": "10%"})],
    )
    first = repo.run("apply", "--yes", env={HOOK_ENV: receiver.url})
    assert first.exit_code == 0, first.output
    (message,) = receiver.messages()
    assert message["reconciler"]["events"] == ["volume"]
    assert message["reconciler"]["exports"][0]["removed"] == 3  # 15% of 20 > 10%
    again = repo.run("apply", "--yes", env={HOOK_ENV: receiver.url})
    assert again.exit_code == 0
    assert len(receiver.bodies) == 1  # nothing to say about an unchanged run
    assert "Notification" not in again.stderr


def test_retries_then_delivers(repo: Repo, receiver: Receiver) -> None:
    repo.seed_list("Ret001", "Retry", addresses("m", 10))
    repo.write({"none": []}, [export("empty", "none", "Ret001")], [notification()])
    receiver.statuses[:] = [500, 503]
    result = repo.run("apply", "--yes", env={HOOK_ENV: receiver.url})
    assert result.exit_code == 1  # allow_empty blocks it
    assert len(receiver.bodies) == 3
    assert "Notification alerts sent (blocked)." in result.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_webhook_that_is_down_is_a_warning_never_a_failure(repo: Repo) -> None:
    repo.seed_list("Down01", "Down", [])
    repo.write(
        {"new": addresses("n", 3)},
        [export("grows", "new", "Down01")],
        [notification(on=["volume"], volume={"adds": 1})],
    )
    url = f"http://127.0.0.1:{closed_port()}/hooks/secret-token"
    result = repo.run("apply", "--yes", env={HOOK_ENV: url})
    assert result.exit_code == 0, result.output  # the apply itself succeeded
    assert "warning: notification alerts was not sent: could not reach the webhook" in result.stderr
    assert "secret-token" not in result.output and str(url) not in result.output
    assert repo.server.admin.members("Down01") == set(addresses("n", 3))
    unset = repo.run("apply", "--yes", "--refresh")
    assert unset.exit_code == 0  # unchanged now: nothing to notify, so no warning either
    assert "warning" not in unset.stderr


def test_an_unset_webhook_variable_is_a_warning(repo: Repo) -> None:
    repo.seed_list("Unset1", "Unset", addresses("m", 10))
    repo.write({"none": []}, [export("empty", "none", "Unset1")], [notification()])
    result = repo.run("apply", "--yes")
    assert result.exit_code == 1
    assert f"environment variable {HOOK_ENV} (its webhook URL) is not set" in result.stderr


def run_of(*exports: ExportRun, outcome: str = "succeeded") -> RunSummary:
    return RunSummary(run_id="r1", outcome=outcome, actor="ci", commit="abc", exports=exports)


def test_event_rules() -> None:
    n = Notification.model_validate(
        {
            "kind": "Notification",
            "name": "n",
            "webhook": {"env": "W"},
            "on": ["failed", "interrupted", "volume"],
            "volume": {"removals": "10%", "adds": 100},
            "exports": ["a"],
        }
    )
    ok = ExportRun("a", "L1", "succeeded", added=100, removed=10, list_before=100)
    assert events_of(n, run_of(ok)) == []  # 10% is not more than 10%; 100 not more than 100
    more = ExportRun("a", "L1", "succeeded", added=101, list_before=100)
    assert events_of(n, run_of(more)) == ["volume"]
    other = ExportRun("b", "L2", "failed")
    assert events_of(n, run_of(other, outcome="failed")) == []  # not a watched export
    bad = ExportRun("a", "L1", "blocked")
    assert events_of(n, run_of(bad)) == []  # blocked is not in `on`
    assert events_of(n, run_of(ExportRun("a", "L1", "failed"), outcome="interrupted")) == [
        "failed",
        "interrupted",
    ]
    message = build_message(run_of(more), ["volume"], None)
    assert message["text"].startswith(":chart_with_upwards_trend: reconciler apply succeeded")
    assert "commit abc" in message["text"] and message["reconciler"]["ci_url"] is None


def test_attempts_are_bounded(repo: Repo, receiver: Receiver) -> None:
    repo.seed_list("Ret002", "Retry", addresses("m", 10))
    repo.write({"none": []}, [export("empty", "none", "Ret002")], [notification()])
    receiver.statuses[:] = [503] * 10
    result = repo.run("apply", "--yes", env={HOOK_ENV: receiver.url})
    assert result.exit_code == 1  # blocked, as without any notification
    assert len(receiver.bodies) == 3
    assert "notification alerts was not sent: the webhook answered HTTP 503" in result.stderr
    receiver.statuses[:] = [404]
    again = repo.run("apply", "--yes", env={HOOK_ENV: receiver.url})
    assert len(receiver.bodies) == 4  # a 404 is not retried
    assert "the webhook answered HTTP 404" in again.stderr
