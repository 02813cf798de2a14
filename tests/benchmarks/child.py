"""One measured action in its own process, so its peak RSS is its own (not the sandbox's).

    python -m tests.benchmarks.child ACTION JSON-ARGS

Prints one JSON object: wall seconds, phase seconds, ``peak_rss_mb`` (``ru_maxrss``) and what
the action found. Actions: ``plan``, ``apply``, ``read`` (a full read of one list) and ``diff``
(the pure plan builder on synthetic sets).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from reconciler.cli.process import prepare_process
from reconciler.engine.applying import run_apply
from reconciler.engine.options import RunOptions
from reconciler.engine.planning import make_plan
from reconciler.plan.model import Plan
from reconciler.plan.planfile import seal, write_plan
from reconciler.state import open_state
from tests.benchmarks.peakstack import maybe_start
from tests.benchmarks.workspace import BENCH_KEY, KEY_ENV


def _options(args: dict[str, Any]) -> RunOptions:
    return RunOptions(
        config_dir=Path(args["config_dir"]),
        exports=tuple(args.get("exports", ())),
        refresh=bool(args.get("refresh", False)),
        base_url=args["base_url"],
        time_scale=float(args["time_scale"]),
        state_url=args["state"],
        state_root=Path(args["config_dir"]).parent,
        env=dict(args.get("env") or {KEY_ENV: BENCH_KEY}),
    )


def _summary(plan: Plan | None) -> dict[str, Any]:
    if plan is None:
        return {}
    return {
        "add": sum(len(e.add) for e in plan.exports),
        "remove": sum(len(e.remove) for e in plan.exports),
        "update": sum(len(e.update) for e in plan.exports),
        "incremental": all(e.incremental for e in plan.exports),
        "errors": [e.error for e in plan.exports if e.error],
        "blocked": [e.name for e in plan.exports if e.blocked],
    }


def _wait_for_start(args: dict[str, Any]) -> None:
    """Sleep until ``start_at`` (a ``time.monotonic()`` reading: the start of a fresh rate
    window, which the minimums assume), if given."""
    if "start_at" in args:
        time.sleep(max(0.0, float(args["start_at"]) - time.monotonic()))


def do_plan(args: dict[str, Any]) -> dict[str, Any]:
    state = open_state(args["state"])
    _wait_for_start(args)
    started = time.perf_counter()
    plan = asyncio.run(make_plan(_options(args), state))
    wall = time.perf_counter() - started
    found: dict[str, Any] = {"wall": wall, **_summary(plan)}
    if args.get("plan_file") and plan is not None:  # the saved plan, as `plan --out` writes it
        path = Path(args["plan_file"])
        written = time.perf_counter()
        write_plan(seal(plan), path)
        found["plan_file_seconds"] = time.perf_counter() - written
        found["plan_file_mb"] = path.stat().st_size / 1e6
        path.unlink()
    return found


def do_apply(args: dict[str, Any]) -> dict[str, Any]:
    state = open_state(args["state"])
    marks: dict[str, float] = {}

    def confirm(plan: Plan) -> bool:
        marks["planned"] = time.perf_counter()
        marks["planned_at"] = time.time()
        marks["plan_rss_mb"] = peak_rss_mb()
        return True

    started = time.perf_counter()
    report = run_apply(_options(args), state, confirm=confirm)
    ended = time.perf_counter()
    planned = marks.get("planned", ended)
    return {
        "wall": ended - started,
        "plan_seconds": planned - started,
        "apply_seconds": ended - planned,
        "plan_rss_mb": marks.get("plan_rss_mb", 0.0),
        "planned_at": marks.get("planned_at", time.time()),  # wall clock: to compare job times
        "outcomes": [o.outcome for o in report.outcomes],
        "added": sum(o.added for o in report.outcomes),
        "removed": sum(o.removed for o in report.outcomes),
        "updated": sum(o.updated for o in report.outcomes),
        "failed": sum(o.failed for o in report.outcomes),
        **_summary(report.plan),
    }


async def _read(args: dict[str, Any]) -> int:
    from reconciler.klaviyo import KlaviyoClient

    client = KlaviyoClient(BENCH_KEY, base_url=args["base_url"], time_scale=args["time_scale"])
    async with client:
        return len(await client.read_members(args["list_id"]))


def do_read(args: dict[str, Any]) -> dict[str, Any]:
    _wait_for_start(args)
    started = time.perf_counter()
    members = asyncio.run(_read(args))
    return {"wall": time.perf_counter() - started, "members": members}


def do_diff(args: dict[str, Any]) -> dict[str, Any]:
    from tests.benchmarks.diffing import time_diff

    return time_diff(Path(args["config_dir"]), str(args["export"]), int(args["profiles"]))


ACTIONS = {"plan": do_plan, "apply": do_apply, "read": do_read, "diff": do_diff}


def peak_rss_mb() -> float:
    """This process's peak RSS. ``ru_maxrss`` would not do: Linux carries it over ``exec`` from
    the forking parent (the sandbox, with its million profiles); ``VmHWM`` starts afresh."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    prepare_process()  # as the reconciler command does (children inherit the environment)
    action, raw = sys.argv[1], sys.argv[2]
    sampler = maybe_start()
    profile_dir = os.environ.get("BENCH_PROFILE")  # cProfile each child into this directory
    profiler = cProfile.Profile() if profile_dir else None
    if profiler is not None:
        profiler.enable()
    result = ACTIONS[action](json.loads(raw))
    if profiler is not None and profile_dir:
        profiler.disable()
        profiler.dump_stats(str(Path(profile_dir) / f"{action}-{os.getpid()}.prof"))
    if sampler is not None:
        print(sampler.report(), file=sys.stderr)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
