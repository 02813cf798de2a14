"""Benchmark data: synthetic addresses, a config directory and its segment file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

KEY_ENV = "BENCH_KLAVIYO_KEY"
BENCH_KEY = "pk_bench0123456789abcdef0123456789ab"
CHUNK = 200_000


def email(i: int) -> str:
    return f"member{i}@example{i % 97}.com"


def emails(start: int, stop: int) -> list[str]:
    return [email(i) for i in range(start, stop)]


def write_segment(path: Path, start: int, stop: int) -> None:
    """A CSV of members ``start`` .. ``stop - 1`` (columns email, first_name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("email", pa.string()), ("first_name", pa.string())])
    with pacsv.CSVWriter(path, schema) as writer:
        for lo in range(start, stop, CHUNK):
            hi = min(lo + CHUNK, stop)
            names = [f"Name{i % 1000}" for i in range(lo, hi)]
            writer.write_table(pa.table({"email": emails(lo, hi), "first_name": names}, schema))


def write_config(config_dir: Path, exports: dict[str, str], max_profiles: int = 5_000_000) -> None:
    """One connection, one file source with a table per export, and ``name -> list_id``."""
    docs: list[dict[str, object]] = [
        {
            "kind": "Connection",
            "name": "klaviyo",
            "display_name": "Benchmark account",
            "api_key": {"env": KEY_ENV},
            "consent": {
                "accepted": True,
                "accepted_by": "bench@contoso.com",
                "accepted_at": "2026-11-20",
            },
        },
        {
            "kind": "Source",
            "name": "files",
            "files": {name: f"data/{name}.csv" for name in sorted(exports)},
        },
    ]
    for name, list_id in sorted(exports.items()):
        docs.append({"kind": "Segment", "name": f"{name}-seg", "source": "files", "table": name})
        docs.append(
            {
                "kind": "Export",
                "name": name,
                "segment": f"{name}-seg",
                "connection": "klaviyo",
                "list_id": list_id,
                "fields": {"email": "email", "first_name": "first_name"},
                "limits": {"max_profiles": max_profiles, "max_removals": "50%"},
            }
        )
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "exports.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
