"""Benchmark: one apply of 20 exports over 4 Klaviyo accounts (two keys of one of them).

    python -m tests.benchmarks.bench_accounts [--profiles N] [--scale S] [--import-rate R]

The sandbox runs in this process with four accounts: ``A`` (keys ``a1`` and ``a2``: two
connections, one account, one rate budget and one import worker), ``B``, ``C`` and ``D``. Each
account gets five exports into new lists; every export of ``A`` adds 2N profiles, every other
export N (default 10,000), so ``A`` is the slowest account. Measured, each in its own child
process (first syncs into empty lists, at time scale S, default 1 = real time):

1. ``A`` alone (its five exports, over both of its keys): its wall time and its own minimum
   (the account's bulk imports back to back, ``minimums.import_seconds``);
2. all 20 exports in one apply: wall time, 429s, and the ratios to ``A`` alone and to ``A``'s
   minimum. Target: within 1.2x of ``A``'s minimum, zero 429s.

Each account's sandbox import worker processes ``--import-rate`` profiles per second (default
10,000), as in ``python -m tests.benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.benchmarks.minimums import import_seconds
from tests.benchmarks.workspace import write_segment

KEYS = {  # connection -> (account, key)
    "a1": ("A", "pk_acctA1bench0123456789abcdef0123"),
    "a2": ("A", "pk_acctA2bench0123456789abcdef0123"),
    "b": ("B", "pk_acctBbench0123456789abcdef01234"),
    "c": ("C", "pk_acctCbench0123456789abcdef01234"),
    "d": ("D", "pk_acctDbench0123456789abcdef01234"),
}
# five exports per account; A's are spread over its two keys
CONNECTIONS = ["a1", "a1", "a1", "a2", "a2", *(["b"] * 5), *(["c"] * 5), *(["d"] * 5)]


@dataclass(frozen=True)
class Export:
    name: str
    connection: str
    list_id: str
    profiles: int

    @property
    def account(self) -> str:
        return KEYS[self.connection][0]


def exports(profiles: int) -> list[Export]:
    found = []
    for index, connection in enumerate(CONNECTIONS):
        size = 2 * profiles if KEYS[connection][0] == "A" else profiles
        found.append(Export(f"e{index:02d}", connection, f"Ac{index:02d}", size))
    return found


def env_name(connection: str) -> str:
    return f"BENCH_KEY_{connection.upper()}"


def write_config(config_dir: Path, chosen: list[Export]) -> None:
    """Five connections (two for account A), one file source, one export per list."""
    docs: list[dict[str, Any]] = [
        {
            "kind": "Connection",
            "name": connection,
            "display_name": f"Benchmark account {account} ({connection})",
            "api_key": {"env": env_name(connection)},
            "consent": {
                "accepted": True,
                "accepted_by": "bench@contoso.com",
                "accepted_at": "2026-11-20",
            },
        }
        for connection, (account, _) in KEYS.items()
    ]
    docs.append(
        {"kind": "Source", "name": "files", "files": {e.name: f"data/{e.name}.csv" for e in chosen}}
    )
    for export in chosen:
        docs.append(
            {
                "kind": "Segment",
                "name": f"{export.name}-seg",
                "source": "files",
                "table": export.name,
            }
        )
        docs.append(
            {
                "kind": "Export",
                "name": export.name,
                "segment": f"{export.name}-seg",
                "connection": export.connection,
                "list_id": export.list_id,
                "fields": {"email": "email", "first_name": "first_name"},
                "limits": {"max_profiles": 5_000_000, "max_removals": "50%"},
            }
        )
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "exports.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))


class AccountsBench:
    def __init__(self, root: Path, profiles: int, scale: float, import_rate: float) -> None:
        self.root = root
        self.scale = scale
        self.import_rate = import_rate
        self.exports = exports(profiles)
        accounts: dict[str, list[str]] = {}
        for account, key in KEYS.values():
            accounts.setdefault(account, []).append(key)
        config = SandboxConfig(
            api_keys=tuple(",".join(keys) for keys in accounts.values()),
            time_scale=scale,
            import_rate=import_rate,
        )
        self.server = SandboxServer(config)
        self.round = 0

    def prepare(self, chosen: list[Export]) -> Path:
        """A fresh config directory and state for ``chosen``, new lists, new people."""
        self.round += 1
        chosen = [replace(e, list_id=f"R{self.round}{e.list_id}"[-6:]) for e in chosen]
        config_dir = self.root / f"round{self.round}" / "exports"
        write_config(config_dir, chosen)
        start = self.round * 10_000_000
        for export in chosen:
            write_segment(
                config_dir / "data" / f"{export.name}.csv", start, start + export.profiles
            )
            start += export.profiles
            key = KEYS[export.connection][1]
            self.server.admin.seed(export.list_id, [], account=key)  # the list, empty
        return config_dir

    def apply(self, chosen: list[Export]) -> dict[str, Any]:
        config_dir = self.prepare(chosen)
        args = {
            "base_url": self.server.base_url,
            "time_scale": self.scale,
            "config_dir": str(config_dir),
            "state": str(config_dir.parent / "state.db"),
            "env": {env_name(c): key for c, (_, key) in KEYS.items()},
        }
        before = self.server.admin.stats()
        cpu, client = _cpu_seconds(), _cpu_seconds(resource.RUSAGE_CHILDREN)
        command = [sys.executable, "-m", "tests.benchmarks.child", "apply", json.dumps(args)]
        done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        sandbox_cpu = _cpu_seconds() - cpu
        client_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - client
        if done.returncode != 0:
            raise SystemExit(f"apply failed:\n{done.stderr[-3000:]}")
        after = self.server.admin.stats()
        report: dict[str, Any] = json.loads(done.stdout)
        wanted = sum(e.profiles for e in chosen)
        if report["added"] != wanted or report.get("errors"):
            raise SystemExit(f"expected {wanted} added, got {report['added']}: {report}")
        report["throttled"] = after["throttled"] - before["throttled"]
        report["sandbox_cpu"] = sandbox_cpu
        report["client_cpu"] = client_cpu
        report["calls"] = sum(after["requests"].values()) - sum(before["requests"].values())
        return report

    def minimum(self, account: str) -> float:
        adds = sum(e.profiles for e in self.exports if e.account == account)
        return import_seconds(adds, self.import_rate) / self.scale


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """CPU time of this process (the sandbox serves from it) or of its finished children (the
    reconciler): one near the wall time of an apply set its pace."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_accounts")
    parser.add_argument("--profiles", type=int, default=10_000, help="profiles per export (A: 2x)")
    parser.add_argument("--scale", type=float, default=1.0, help="sandbox time scale")
    parser.add_argument("--import-rate", type=float, default=10_000.0, help="profiles/s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-accounts-") as scratch:
        bench = AccountsBench(Path(scratch), args.profiles, args.scale, args.import_rate)
        bench.server.start()
        try:
            started = time.perf_counter()
            alone = bench.apply([e for e in bench.exports if e.account == "A"])
            together = bench.apply(bench.exports)
            total = time.perf_counter() - started
        finally:
            bench.server.stop()
    slowest = bench.minimum("A")
    minimums = ", ".join(f"{a} {bench.minimum(a):.1f}s" for a in "ABCD")
    print(f"exports 20 over 4 accounts (A over two keys); profiles per export {args.profiles:,}")
    print(f"time scale {args.scale:g}; import rate {args.import_rate:,.0f}/s; minimums {minimums}")
    for label, report in (("A alone (5 exports)", alone), ("all 20 exports", together)):
        print(
            f"{label:22} apply {report['apply_seconds']:6.1f}s (plan {report['plan_seconds']:.1f}s)"
            f"  added {report['added']:,}  calls {report['calls']:,}  429s {report['throttled']}"
            f"  peak RSS {report['peak_rss_mb']:.0f} MB"
            f"  CPU: sandbox {report['sandbox_cpu']:.1f}s, reconciler {report['client_cpu']:.1f}s"
        )
    print(f"ratio all / A alone    {together['apply_seconds'] / alone['apply_seconds']:.2f}")
    print(f"ratio all / A minimum  {together['apply_seconds'] / slowest:.2f}  (target <= 1.2)")
    print(f"A alone / A minimum    {alone['apply_seconds'] / slowest:.2f}")
    print(f"total {total:.0f}s")


if __name__ == "__main__":
    main()
