"""Benchmark: read a 1,000,000-row segment from Parquet and CSV; wall time and peak RSS.

    python -m tests.benchmarks.bench_sources [--rows N] [--properties]

Each read runs in a fresh child process so its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reconciler.models import Config, Export, Fields, Segment, Source
from reconciler.sources import read_segment

CHUNK = 200_000


def _chunk(start: int, stop: int) -> pa.Table:
    emails = []
    for i in range(start, stop):
        if i % 100 == 1:
            emails.append(f"not an email {i}")
        elif i % 100 == 2:
            emails.append(f"User{i - 2}@Example{(i - 2) % 1000}.com")  # duplicate of i - 2
        else:
            emails.append(f"user{i}@example{i % 1000}.com")
    return pa.table(
        {
            "email": emails,
            "first_name": [f"Name{i}" for i in range(start, stop)],
            "ltv": [float(i % 5000) / 7 for i in range(start, stop)],
        }
    )


def write_data(directory: Path, rows: int) -> None:
    schema = _chunk(0, 1).schema
    with (
        pq.ParquetWriter(directory / "profiles.parquet", schema) as parquet,
        pacsv.CSVWriter(directory / "profiles.csv", schema) as csv,
    ):
        for start in range(0, rows, CHUNK):
            table = _chunk(start, min(start + CHUNK, rows))
            parquet.write_table(table)
            csv.write_table(table)


def run_one(directory: Path, fmt: str, properties: bool) -> dict[str, object]:
    fields = Fields(email="email", first_name="first_name" if properties else None)
    export = Export(
        kind="Export", name="bench", segment="all", connection="c", list_id="AbC123", fields=fields
    )
    config = Config(
        sources={"s": Source(kind="Source", name="s", files={"profiles": f"profiles.{fmt}"})},
        segments={"all": Segment(kind="Segment", name="all", source="s", table="profiles")},
        exports={"bench": export},
    )
    started = time.perf_counter()
    data = read_segment(config, export, directory)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "format": fmt,
        "properties": properties,
        "rows": data.rows,
        "valid": len(data.emails),
        "invalid": data.invalid,
        "duplicates": data.duplicates,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--properties", action="store_true", help="also map first_name")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(Path(args.child[0]), args.child[1], args.properties)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-sources-") as scratch:
        started = time.perf_counter()
        write_data(Path(scratch), args.rows)
        print(f"wrote {args.rows} rows (parquet + csv) in {time.perf_counter() - started:.1f}s")
        for fmt in ("parquet", "csv"):
            command = [sys.executable, "-m", "tests.benchmarks.bench_sources"]
            command += ["--child", scratch, fmt] + (["--properties"] if args.properties else [])
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(output)
            print(
                f"{fmt:8} rows={result['rows']} valid={result['valid']} "
                f"invalid={result['invalid']} duplicates={result['duplicates']} "
                f"wall={result['seconds']}s peak_rss={result['peak_rss_mb']}MB"
            )


if __name__ == "__main__":
    main()
