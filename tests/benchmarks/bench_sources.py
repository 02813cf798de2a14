"""Benchmark: read a 1,000,000-row segment from Parquet, CSV and PostgreSQL; time, peak RSS.

    python -m tests.benchmarks.bench_sources [--rows N] [--properties] [--formats csv,postgresql]

Each read runs in a fresh child process so its peak RSS (``ru_maxrss``) is its own. The
PostgreSQL table is loaded with COPY into a schema of its own in the local server (database
``test``, 127.0.0.1:5432), read through the server-side cursor, and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reconciler.models import Config, Export, Fields, Segment, Source
from reconciler.sources import read_segment
from tests.benchmarks.child import peak_rss_mb

CHUNK = 200_000
FORMATS = ("parquet", "csv", "postgresql")
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ALLOCATOR = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}


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


def write_postgresql(schema: str, rows: int) -> None:
    """The same rows as ``write_data``, COPYed into ``schema``.profiles."""
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(
            f'CREATE TABLE "{schema}".profiles (email text, first_name text, ltv double precision)'
        )
        cursor = connection.cursor()
        with cursor, cursor.copy(f'COPY "{schema}".profiles FROM STDIN') as copy:
            for start in range(0, rows, CHUNK):
                for row in _chunk(start, min(start + CHUNK, rows)).to_pylist():
                    copy.write_row((row["email"], row["first_name"], row["ltv"]))


def drop_postgresql(schema: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _source(directory: Path, fmt: str) -> tuple[Source, str]:
    if fmt == "postgresql":
        schema = directory.name  # the child gets the schema name in place of a directory
        return Source(kind="Source", name="s", url=PG_URL), f"{schema}.profiles"
    return Source(kind="Source", name="s", files={"profiles": f"profiles.{fmt}"}), "profiles"


def run_one(directory: Path, fmt: str, properties: bool) -> dict[str, object]:
    fields = Fields(email="email", first_name="first_name" if properties else None)
    export = Export(
        kind="Export", name="bench", segment="all", connection="c", list_id="AbC123", fields=fields
    )
    source, table = _source(directory, fmt)
    config = Config(
        sources={"s": source},
        segments={"all": Segment(kind="Segment", name="all", source="s", table=table)},
        exports={"bench": export},
    )
    started = time.perf_counter()
    data = read_segment(config, export, directory)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()  # VmHWM: ru_maxrss would carry over the parent's peak across exec
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
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(Path(args.child[0]), args.child[1], args.properties)))
        return
    formats = [f for f in args.formats.split(",") if f]
    schema = f"bench_sources_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="bench-sources-") as scratch:
        try:
            _write(Path(scratch), schema, formats, args.rows)
            for fmt in formats:
                where = schema if fmt == "postgresql" else scratch
                _report(fmt, _child(where, fmt, args.properties))
        finally:
            if "postgresql" in formats:
                drop_postgresql(schema)


def _write(directory: Path, schema: str, formats: list[str], rows: int) -> None:
    started = time.perf_counter()
    if {"parquet", "csv"} & set(formats):
        write_data(directory, rows)
    if "postgresql" in formats:
        write_postgresql(schema, rows)
    print(f"wrote {rows} rows ({', '.join(formats)}) in {time.perf_counter() - started:.1f}s")


def _child(where: str, fmt: str, properties: bool) -> dict[str, object]:
    command = [sys.executable, "-m", "tests.benchmarks.bench_sources"]
    command += ["--child", where, fmt] + (["--properties"] if properties else [])
    env = os.environ | ALLOCATOR  # as `reconciler` sets them, before pyarrow loads
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, object] = json.loads(output)
    return result


def _report(fmt: str, result: dict[str, object]) -> None:
    print(
        f"{fmt:10} rows={result['rows']} valid={result['valid']} "
        f"invalid={result['invalid']} duplicates={result['duplicates']} "
        f"wall={result['seconds']}s peak_rss={result['peak_rss_mb']}MB"
    )


if __name__ == "__main__":
    main()
