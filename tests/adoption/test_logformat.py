"""``--log-format json``: stderr is one masked JSON object per event; human stays the default."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from reconciler.cli.logformat import JsonEvents, JsonLogHandler, JsonStderr
from reconciler.emails import mask_email
from tests.adoption.conftest import Repo, addresses, export


def events(stderr: str) -> list[dict[str, Any]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_apply_logs_one_json_object_per_event(repo: Repo) -> None:
    members = addresses("m", 10)
    repo.seed_list("Log001", "Blocked", members)
    repo.seed_list("Log002", "Grows", [])
    notification = {"kind": "Notification", "name": "ops", "webhook": {"env": "LOG_HOOK"}}
    repo.write(
        {"none": [], "new": addresses("n", 3)},
        [export("empty", "none", "Log001"), export("grows", "new", "Log002")],
        [notification],
    )
    result = repo.run("--log-format", "json", "apply", "--yes")
    assert result.exit_code == 1
    found = events(result.stderr)
    assert all({"ts", "level", "event"} <= set(e) for e in found)
    outcomes = {e["export"]: e for e in found if e["event"] == "export.outcome"}
    assert outcomes["empty"]["outcome"] == "blocked" and outcomes["empty"]["level"] == "error"
    assert (outcomes["grows"]["outcome"], outcomes["grows"]["added"]) == ("succeeded", 3)
    (finished,) = [e for e in found if e["event"] == "run.finished"]
    assert finished["failed"] is True and finished["run_id"] == outcomes["grows"]["run_id"]
    warnings = [e for e in found if e["event"] == "message" and e["level"] == "warning"]
    assert any("notification ops was not sent" in e["message"] for e in warnings)
    assert not [a for a in [*addresses("m", 10), *addresses("n", 3)] if a in result.stderr]
    assert "\x1b[" not in result.stderr
    assert "Run " in result.stdout  # results on stdout stay as they are


def test_errors_carry_their_details_and_the_env_variable_works(repo: Repo) -> None:
    repo.write({"vip": []}, [export("vip", "nope", "Log003")])
    result = repo.run("plan", env={"RECONCILER_LOG_FORMAT": "json"})
    assert result.exit_code == 1
    found = events(result.stderr)
    problem = next(e for e in found if "R021" in e["message"])
    assert problem["level"] == "error"
    assert any(d.startswith("hint:") for d in problem.get("details", []))
    assert found[-1]["level"] == "error" and "configuration error" in found[-1]["message"]


def test_plan_events_and_the_human_default(repo: Repo) -> None:
    repo.seed_list("Log004", "Plan", addresses("m", 2))
    repo.write({"vip": addresses("m", 1)}, [export("vip", "vip", "Log004")])
    json_plan = repo.run("--log-format", "json", "plan")
    assert json_plan.exit_code == 0, json_plan.output
    (planned,) = [e for e in events(json_plan.stderr) if e["event"] == "export.planned"]
    assert (planned["export"], planned["add"], planned["remove"]) == ("vip", 0, 1)
    assert planned["notes"] and "first plan over list Log004" in planned["notes"][0]
    human = repo.run("plan")
    assert human.exit_code == 0
    assert "export.planned" not in human.stderr and not human.stderr.lstrip().startswith("{")


def test_log_records_and_printed_lines_are_masked() -> None:
    out = io.StringIO()
    sink = JsonEvents(out)
    logger = logging.getLogger("reconciler.test-logformat")
    handler = JsonLogHandler(sink)
    logger.addHandler(handler)
    try:
        logger.warning("retrying for jane.doe@example.com")
    finally:
        logger.removeHandler(handler)
    stream = JsonStderr(sink)
    stream.write("error: cannot add bob@example.com\n  hint: check ")
    stream.write("it\nplain line")
    stream.flush()
    record, error, plain = (json.loads(line) for line in out.getvalue().splitlines())
    assert (record["event"], record["level"]) == ("log", "warning")
    assert record["message"] == f"retrying for {mask_email('jane.doe@example.com')}"
    assert error == {
        **error,
        "level": "error",
        "message": f"error: cannot add {mask_email('bob@example.com')}",
        "details": ["hint: check it"],
    }
    assert (plain["message"], plain["level"]) == ("plain line", "info")
