"""Benchmarks of the whole pipeline against the sandbox with real (optionally scaled) limits.

    python -m tests.benchmarks [--scale N] [--apply-scale N] [--profiles N] [--only 1,2,...]
                               [--import-rate R]

Scenarios (N = --profiles, 1,000,000 by default):
  1. first sync of N new members into an empty list (apply);
  w. the first plan after it: a full read of the N-member list, which fills the state cache;
  2. incremental plan of the N-member export with 1% segment churn and an unchanged list;
  3. full read of an N/10-member list;
  4. apply of that 1% churn (N/100 adds, N/100 removes) on the N-member list;
  5. diff of N against N emails (pure builder + plan checksum), and the peak RSS of the whole
     plan process of scenario 2;
  6. full read of an N/10-member list that joined in 10 bursts (10 bulk imports), each page
     50 ms late at time scale 10 (500 ms of Klaviyo time);
  7. the same for a list whose N/10 members all joined in one instant.
Reads run at --scale (default 5), applies (1 and 4) at --apply-scale (default 1, real time),
scenarios 6 and 7 at scale 10 whatever --scale says. Above a million profiles both defaults grow
with N (10,000,000: reads at 50, applies at 10), or a 10M run would wait hours on the rate
windows and the import pace; its ratios then show what the sandbox and the client can serve on
this machine, its memory figures are what it measures. 20 exports over 4 accounts:
``python -m tests.benchmarks.bench_accounts``.
Each measured action runs in a child process (``tests.benchmarks.child``): its peak RSS is its
own, and it does not share a core with the sandbox, which serves from this process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from reconciler.cli.process import prepare_process
from tests.benchmarks.scenarios import SCENARIOS, Bench
from tests.benchmarks.table import render


def _only(text: str | None) -> set[str]:
    if not text:
        return set(SCENARIOS)
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = chosen - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"--only: unknown scenario(s) {', '.join(sorted(unknown))}")
    return chosen


def default_scales(profiles: int) -> tuple[float, float]:
    """Reads at 5 and applies in real time up to a million profiles; beyond, both grow with the
    size, so that the rate windows (reads) and the import pace (applies) take about as long as
    for a million."""
    factor = max(1.0, profiles / 1_000_000)
    return 5.0 * factor, factor


def main() -> None:
    prepare_process()  # as the reconciler command does (children inherit the environment)
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument(
        "--scale", type=float, help="time scale of the reads (1 = real time; default: see above)"
    )
    parser.add_argument(
        "--apply-scale", type=float, help="time scale of the applies (1 and 4; default: see above)"
    )
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--only", help="comma-separated scenario numbers, e.g. 2,5")
    parser.add_argument("--import-rate", type=float, default=10_000.0, help="profiles/s")
    args = parser.parse_args()
    only = _only(args.only)
    if args.profiles < 1:
        parser.error("--profiles must be positive")
    args.scale = args.scale or default_scales(args.profiles)[0]
    args.apply_scale = args.apply_scale or default_scales(args.profiles)[1]
    print(f"time scales: reads {args.scale:g}, applies {args.apply_scale:g}", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        bench = Bench(Path(scratch), args.scale, args.profiles, args.import_rate, args.apply_scale)
        with bench:
            rows = bench.run(only)
    print(render(rows, args.import_rate))
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
