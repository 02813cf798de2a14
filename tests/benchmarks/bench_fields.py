"""Fields kept current at scale (issue 13): the incremental plan and the apply of an export
whose mapped fields change.

    python -m tests.benchmarks.bench_fields [--profiles N] [--scale S] [--import-rate R]

Steps (N = --profiles, 1,000,000 by default; the export maps first_name and a custom
property ``lifetime_value``):
  a. first sync of N members (apply, real time): fills the list and the sent-fields state;
  b. the first plan after it (a full read at --scale): fills the membership cache;
  c. the incremental plan after 1% churn (N/100 adds, N/100 removes) and 1% changed
     ``lifetime_value``: seconds and peak RSS (targets: under 10 s and 400 MB);
  d. its apply (real time): the ratio of its apply part to its minimum (the imports of the
     N/100 adds and N/100 updates, the N/100 removals; target 1.2x).
Each step runs in a child process (``tests.benchmarks.child``), the sandbox in this one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

from reconciler.cli.process import prepare_process
from tests.benchmarks.minimums import apply_minimum
from tests.benchmarks.scenarios import Bench, BenchError
from tests.benchmarks.workspace import CHUNK, KEY_ENV, emails

LIST = "FlD001"


def write_segment(path: Path, start: int, stop: int, changed: range) -> None:
    """Members ``start`` .. ``stop - 1`` with first_name and lifetime_value (``changed``:
    those whose lifetime_value went up by one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("email", pa.string()), ("first_name", pa.string()), ("ltv", pa.int64())])
    with pacsv.CSVWriter(path, schema) as writer:
        for lo in range(start, stop, CHUNK):
            hi = min(lo + CHUNK, stop)
            names = [f"Name{i % 1000}" for i in range(lo, hi)]
            values = [i % 5000 + (1 if i in changed else 0) for i in range(lo, hi)]
            table = pa.table({"email": emails(lo, hi), "first_name": names, "ltv": values})
            writer.write_table(table.cast(schema))


def write_config(config_dir: Path) -> None:
    docs: list[dict[str, object]] = [
        {
            "kind": "Connection",
            "name": "klaviyo",
            "api_key": {"env": KEY_ENV},
            "consent": {"accepted": True, "accepted_by": "bench", "accepted_at": "2026-11-20"},
        },
        {"kind": "Source", "name": "files", "files": {"fields": "data/fields.csv"}},
        {"kind": "Segment", "name": "fields-seg", "source": "files", "table": "fields"},
        {
            "kind": "Export",
            "name": "fields",
            "segment": "fields-seg",
            "connection": "klaviyo",
            "list_id": LIST,
            "fields": {
                "email": "email",
                "first_name": "first_name",
                "properties": {"lifetime_value": "ltv"},
            },
            "limits": {"max_profiles": 20_000_000, "max_removals": "50%"},
        },
    ]
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "exports.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))


def run(bench: Bench) -> None:
    n, churn = bench.n, bench.churn
    data = bench.config_dir / "data" / "fields.csv"
    write_config(bench.config_dir)
    bench.server.admin.seed(LIST, [])
    write_segment(data, 0, n, range(0))
    bench.at(bench.apply_scale)
    first, _, _ = bench.child("apply")
    if first["added"] != n:
        raise BenchError(f"first sync added {first['added']}, expected {n}")
    print(
        f"a. first sync of {n:,}: apply {first['apply_seconds']:.1f}s, "
        f"peak {first['peak_rss_mb']:.0f} MB"
    )
    bench.at(bench.scale)
    warm, calls, _ = bench.child("plan", start_at=bench.fresh_window())
    print(
        f"b. first plan (full read) at scale {bench.scale:g}: {warm['wall']:.1f}s, "
        f"{calls:,} calls, peak {warm['peak_rss_mb']:.0f} MB, update {warm.get('update')}"
    )
    write_segment(data, churn, n + churn, range(churn, 2 * churn))
    plan, calls, throttled = bench.child("plan")
    expected = {"add": churn, "remove": churn, "update": churn}
    found = {key: plan.get(key) for key in expected}
    if found != expected or not plan["incremental"]:
        raise BenchError(f"incremental plan found {found} (incremental={plan['incremental']})")
    print(
        f"c. incremental plan, 1% churn + 1% changed fields: {plan['wall']:.1f}s, {calls} "
        f"calls, {throttled} x 429, peak {plan['peak_rss_mb']:.0f} MB (targets < 10 s, < 400 MB)"
    )
    bench.at(bench.apply_scale)
    applied, calls, throttled = bench.child("apply")
    minimum = apply_minimum(2 * churn, churn, bench.import_rate, bench.apply_scale)
    ratio = applied["apply_seconds"] / minimum if minimum else float("nan")
    print(
        f"d. its apply: {applied['apply_seconds']:.1f}s, minimum {minimum:.1f}s, "
        f"{ratio:.2f}x (target 1.2x), {calls} calls, {throttled} x 429, "
        f"updated {applied.get('updated')}, plan part {applied['plan_seconds']:.1f}s"
    )


def main() -> None:
    prepare_process()
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_fields")
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=5.0, help="time scale of the reads")
    parser.add_argument("--apply-scale", type=float, default=1.0)
    parser.add_argument("--import-rate", type=float, default=10_000.0, help="profiles/s")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-fields-") as scratch:
        bench = Bench(Path(scratch), args.scale, args.profiles, args.import_rate, args.apply_scale)
        with bench:
            run(bench)
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
