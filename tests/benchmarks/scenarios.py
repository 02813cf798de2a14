"""The benchmark scenarios: the sandbox in this process, each measured action in a child.

Reads (the first full read, the incremental plan, the full read of scenario 3) run at
``scale``; applies (scenarios 1 and 4) at ``apply_scale``, real time by default: their minimum
is set by Klaviyo's import pace, and at a time scale of 10 the minimum of a 10,000-profile
apply (0.15 s) is shorter than encoding and sending those profiles takes on any machine. The
sandbox switches its time scale between scenarios; its data and rate windows carry on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox.ratelimit import STEADY_WINDOW
from tests.benchmarks.minimums import apply_minimum, import_seconds, read_minimum
from tests.benchmarks.table import Row, ShownRows
from tests.benchmarks.workspace import BENCH_KEY, emails, write_config, write_segment

BIG_LIST = "BiG001"
MID_LIST = "MiD001"
BURST_LIST = "BuR001"
INSTANT_LIST = "InS001"
SEED_BATCH = 10_000
SCENARIOS = ("1", "2", "3", "4", "5", "6", "7")
LATENCY_MS = 50  # scenarios 6 and 7: every answer 50 ms late ...
LATENCY_SCALE = 10.0  # ... at time scale 10: 500 ms of Klaviyo time per page
BURSTS = 10
STARTUP = 2.0  # real seconds a child needs to start (imports) before it can begin on time


class BenchError(Exception):
    """A measured action failed or gave an unexpected result."""


class Bench:
    def __init__(
        self, root: Path, scale: float, profiles: int, import_rate: float, apply_scale: float = 1.0
    ) -> None:
        self.root = root
        self.scale = scale
        self.apply_scale = apply_scale
        self.n = profiles
        self.churn = max(1, profiles // 100)
        self.import_rate = import_rate
        self.config_dir = root / "exports"
        self.state = str(root / "state.db")
        config = SandboxConfig(api_keys=(BENCH_KEY,), time_scale=scale, import_rate=import_rate)
        self.server = SandboxServer(config)
        self.big_filled = False
        self.cache_warm = False
        self.plan_rss: float | None = None

    def __enter__(self) -> Bench:
        self.server.start()
        write_config(self.config_dir, {"big": BIG_LIST}, max(5_000_000, 2 * self.n))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.stop()

    # -- plumbing ---------------------------------------------------------------------------

    def child(self, action: str, **args: Any) -> tuple[dict[str, Any], int, int]:
        """Run one action in a child process: (its report, API calls, 429s received)."""
        args.setdefault("base_url", self.server.base_url)
        args.setdefault("time_scale", self.server.app.sandbox.config.time_scale)
        args.setdefault("config_dir", str(self.config_dir))
        args.setdefault("state", self.state)
        before = self.server.admin.stats()
        command = [sys.executable, "-m", "tests.benchmarks.child", action, json.dumps(args)]
        done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode != 0:
            raise BenchError(f"{action} failed:\n{done.stderr[-3000:]}")
        if os.environ.get("BENCH_PEAK_STACK"):  # where the child's memory peaked
            print(done.stderr[-3000:], file=sys.stderr)
        after = self.server.admin.stats()
        calls = sum(after["requests"].values()) - sum(before["requests"].values())
        return json.loads(done.stdout), calls, after["throttled"] - before["throttled"]

    def at(self, scale: float) -> float:
        """Run the sandbox (and the next children) at ``scale``; returns it."""
        self.server.app.sandbox.set_time_scale(scale)
        return scale

    def fresh_window(self) -> float:
        """When the next steady (one-minute) rate window starts, at least ``STARTUP`` real
        seconds from now: reads start there, the worst case their minimum assumes."""
        clock = self.server.app.sandbox.clock
        ahead = clock.now() + STARTUP * clock.time_scale
        return clock.real_at((ahead // STEADY_WINDOW + 1) * STEADY_WINDOW)

    def seed(self, list_id: str, start: int, stop: int, batch: int) -> None:
        """Seed in batches: each batch joins at its own time, as members do in a real list."""
        self.server.admin.seed(list_id, [])
        for lo in range(start, stop, batch):
            self.server.admin.seed(list_id, emails(lo, min(lo + batch, stop)))

    def segment(self, start: int, stop: int) -> None:
        write_segment(self.config_dir / "data" / "big.csv", start, stop)

    # -- scenarios --------------------------------------------------------------------------

    def run(self, only: set[str]) -> list[Row]:
        rows: list[Row] = ShownRows()
        if "1" in only:
            rows.append(self.first_sync())
        if only & {"2", "4", "5"}:
            rows.append(self.warm_up())
        if only & {"2", "5"}:
            rows.append(self.incremental_plan(record=("2" in only)))
        if "5" in only:
            rows.append(self.diff())
        if "4" in only:
            rows.append(self.churn_apply())
        if "3" in only:
            rows.append(self.full_read())
        if "6" in only:
            rows.append(self.slow_read(BURST_LIST, BURSTS))
        if "7" in only:
            rows.append(self.slow_read(INSTANT_LIST, 1))
        return [r for r in rows if r.scenario]

    def first_sync(self) -> Row:
        self.server.admin.seed(BIG_LIST, [])
        self.segment(0, self.n)
        scale = self.at(self.apply_scale)
        saved, _, _ = self.child("plan", plan_file=str(self.root / "first.plan"))
        _expect(saved, add=self.n, remove=0)
        report, calls, throttled = self.child("apply")
        _expect(report, added=self.n, removed=0)
        self.big_filled = True
        return Row(
            "1. first sync (apply)",
            self.n,
            scale,
            report["wall"],
            calls,
            throttled,
            minimum=import_seconds(self.n, self.import_rate) / scale,
            measured=report["apply_seconds"],
            rss_mb=report["peak_rss_mb"],
            note=f"plan {report['plan_seconds']:.1f}s ({report['plan_rss_mb']:.0f} MB) + apply "
            f"{report['apply_seconds']:.1f}s; ratio = apply part / minimum; the plan saved "
            f"(plan --out): {saved['plan_file_mb']:.0f} MB on disk, written in "
            f"{saved['plan_file_seconds']:.1f}s, that plan process {saved['peak_rss_mb']:.0f} MB",
        )

    def warm_up(self) -> Row:
        if not self.big_filled:
            self.seed(BIG_LIST, 0, self.n, SEED_BATCH)
            self.big_filled = True
        self.segment(0, self.n)
        scale = self.at(self.scale)
        report, calls, throttled = self.child("plan", start_at=self.fresh_window())
        _expect(report, add=0, remove=0)
        self.cache_warm = True
        return Row(
            "w. first plan (full read)",
            self.n,
            scale,
            report["wall"],
            calls,
            throttled,
            minimum=read_minimum(self.n, scale),
            rss_mb=report["peak_rss_mb"],
            note="fills the membership cache; includes reading the segment and the diff",
        )

    def incremental_plan(self, *, record: bool) -> Row:
        self.segment(self.churn, self.n + self.churn)
        scale = self.at(self.scale)
        report, calls, throttled = self.child("plan")
        _expect(report, add=self.churn, remove=self.churn)
        if not report["incremental"]:
            raise BenchError("the plan after a warm cache was not incremental")
        self.plan_rss = report["peak_rss_mb"]
        return Row(
            "2. incremental plan, 1% churn" if record else "",
            self.n,
            scale,
            report["wall"],
            calls,
            throttled,
            rss_mb=report["peak_rss_mb"],
        )

    def diff(self) -> Row:
        self.segment(self.churn, self.n + self.churn)
        report, _, _ = self.child("diff", profiles=self.n, export="big")
        _expect(report, add=self.churn, remove=self.churn)
        return Row(
            "5. diff N vs N (+ plan RSS)",
            self.n,
            self.scale,
            report["wall"],
            0,
            0,
            rss_mb=self.plan_rss or 0.0,
            note=f"diff {report['wall']:.2f}s, plan checksum {report['seal_seconds']:.2f}s, "
            f"diff process {report['peak_rss_mb']:.0f} MB; RSS column = the whole plan "
            "process of scenario 2",
        )

    def churn_apply(self) -> Row:
        self.segment(self.churn, self.n + self.churn)
        scale = self.at(self.apply_scale)
        report, calls, throttled = self.child("apply")
        _expect(report, added=self.churn, removed=self.churn)
        return Row(
            "4. apply 1% churn",
            self.n,
            scale,
            report["wall"],
            calls,
            throttled,
            minimum=apply_minimum(self.churn, self.churn, self.import_rate, scale),
            measured=report["apply_seconds"],
            rss_mb=report["peak_rss_mb"],
            note=f"plan {report['plan_seconds']:.1f}s ({report['plan_rss_mb']:.0f} MB) + apply "
            f"{report['apply_seconds']:.1f}s; ratio = apply part / minimum",
        )

    def full_read(self) -> Row:
        members = max(1, self.n // 10)
        self.seed(MID_LIST, 10 * self.n, 10 * self.n + members, max(100, members // 100))
        scale = self.at(self.scale)
        report, calls, throttled = self.child(
            "read", list_id=MID_LIST, start_at=self.fresh_window()
        )
        if report["members"] != members:
            raise BenchError(f"read {report['members']} members, expected {members}")
        return Row(
            "3. full read",
            members,
            scale,
            report["wall"],
            calls,
            throttled,
            minimum=read_minimum(members, scale),
            rss_mb=report["peak_rss_mb"],
        )

    def slow_read(self, list_id: str, bursts: int) -> Row:
        """A full read of N/10 members who joined in ``bursts`` instants (bulk imports), each
        page 500 ms (Klaviyo time) late."""
        members = max(1, self.n // 10)
        start = 20 * self.n + bursts * members
        per_burst = -(-members // bursts)
        for lo in range(start, start + members, per_burst):
            self.server.admin.seed(list_id, emails(lo, min(lo + per_burst, start + members)))
            time.sleep(0.005)  # the next burst a little later
        scale = self.at(LATENCY_SCALE)
        self.server.admin.faults(latency_ms=LATENCY_MS)
        try:
            report, calls, throttled = self.child(
                "read", list_id=list_id, start_at=self.fresh_window()
            )
        finally:
            self.server.admin.faults(latency_ms=0)
        if report["members"] != members:
            raise BenchError(f"read {report['members']} members, expected {members}")
        label = f"{bursts} bursts" if bursts > 1 else "one instant"
        return Row(
            f"{'6' if bursts > 1 else '7'}. full read, {label}, {LATENCY_MS} ms",
            members,
            scale,
            report["wall"],
            calls,
            throttled,
            minimum=read_minimum(members, scale),
            rss_mb=report["peak_rss_mb"],
        )


def _expect(report: dict[str, Any], **wanted: int) -> None:
    if report.get("errors") or report.get("blocked"):
        raise BenchError(f"plan failed: {report.get('errors')} {report.get('blocked')}")
    found = {k: report.get(k) for k in wanted}
    if found != wanted:
        raise BenchError(f"expected {wanted}, got {found}")
