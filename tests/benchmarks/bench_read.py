"""Benchmark: a full read of a large list through the client, against the sandbox's real
(time-scaled) rate limits.

    python -m tests.benchmarks.bench_read [--scale N] [--members N] [--bursts K]
        [--latency-ms MS] [--l-steady N] [--remaining-noise F]

Starts the sandbox over a real socket in a child process (time scale N, default 10; its own
process, so client and server do not share one interpreter), seeds it with --members members
(default 100,000) who joined over time (one join instant per 500 members), or in K bursts
(``--bursts K``: K instants; 1 = every member joined in the same instant), optionally with
every API answer delayed by --latency-ms real milliseconds, waits for the start of a fresh
steady window,
then reads every member with ``KlaviyoClient.read_members`` and prints: members, pages, wall
seconds, the theoretical minimum (fixed windows at the L tier: 750 pages in the first minute,
the rest at burst speed right after, divided by the scale), their ratio, and 429s received.
Target: ratio <= 1.1 and no 429.

``--l-steady`` and ``--remaining-noise`` set the sandbox's L-tier steady limit and the error of
its ``RateLimit-Remaining`` (the fidelity scenario: 700 and 0.1; target ratio <= 1.15 and at
most 2 x 429; the minimum then uses the server's limit).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import time
from multiprocessing.connection import Connection

from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.facts import FACTS, L
from reconciler.plan.estimate import fixed_window_seconds
from reconciler.sandbox import AdminClient, SandboxConfig, SandboxServer
from reconciler.values import Rate

LIST_ID = "Bench1"
KEY = "sandbox-key"
SEED_BATCH = 500


def theoretical_seconds(members: int, scale: float, steady: int = L.steady) -> float:
    """Earliest end of a read of ``members``: every page call at the earliest moment the fixed
    windows allow (the last call starts at ``fixed_window_seconds``; a burst of calls takes
    one burst window)."""
    rate = Rate(L.burst, steady)
    pages = max(1, math.ceil(members / FACTS.page_size))
    last_start = fixed_window_seconds(pages, rate)
    tail = (pages - 1) % rate.steady % rate.burst + 1  # calls in the last burst window
    return (last_start + tail / rate.burst) / scale


def serve(config: SandboxConfig, conn: Connection) -> None:
    """Child process: run the sandbox; report its URL and when its virtual clock started."""
    server = SandboxServer(config)
    origin = time.monotonic() - server.state.clock.now() / config.time_scale
    conn.send((server.base_url, origin))
    server.serve_forever()


def seed(admin: AdminClient, members: int, bursts: int = 0) -> None:
    """Each seed call is one join instant: ``bursts`` calls, or one per ``SEED_BATCH``."""
    batch = -(-members // bursts) if bursts > 0 else SEED_BATCH
    for start in range(0, members, batch):
        stop = min(members, start + batch)
        admin.seed(LIST_ID, (f"member{i}@example.com" for i in range(start, stop)))


def wait_for_fresh_window(origin: float, scale: float) -> None:
    """Start at the beginning of the sandbox's steady window (the worst case for a reader)."""
    virtual = (time.monotonic() - origin) * scale
    time.sleep((60.0 - virtual % 60.0) / scale + 0.002)


async def read_all(base_url: str, scale: float) -> tuple[int, int, int, float]:
    async with KlaviyoClient(KEY, base_url=base_url, time_scale=scale) as client:
        started = time.monotonic()
        members = await client.read_members(LIST_ID)
        wall = time.monotonic() - started
        pages = client.stats.for_endpoint("GET /api/lists/{id}/profiles").requests
        return len(members), pages, client.stats.throttled, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0, help="sandbox time scale")
    parser.add_argument("--members", type=int, default=100_000, help="members in the list")
    parser.add_argument("--bursts", type=int, default=0, help="join instants (0: one per 500)")
    parser.add_argument("--latency-ms", type=int, default=0, help="real delay of each answer")
    parser.add_argument(
        "--any-iso-filters",
        action="store_true",
        help="accept any ISO 8601 filter date-time (for clients older than the ms filters)",
    )
    parser.add_argument("--l-steady", type=int, default=L.steady, help="sandbox L-tier steady")
    parser.add_argument(
        "--remaining-noise", type=float, default=0.05, help="error of RateLimit-Remaining"
    )
    args = parser.parse_args()
    if args.scale <= 0 or args.members <= 0 or args.l_steady <= 0:
        parser.error("--scale, --members and --l-steady must be positive")
    if args.bursts < 0 or args.latency_ms < 0:
        parser.error("--bursts and --latency-ms must be >= 0")
    config = SandboxConfig(
        time_scale=args.scale,
        rate_limits=True,
        l_steady=args.l_steady,
        remaining_noise=args.remaining_noise,
        latency_ms=args.latency_ms,
        datetime_filters="any-iso" if args.any_iso_filters else "documented",
    )
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=serve, args=(config, sender), daemon=True)
    child.start()
    try:
        base_url, origin = receiver.recv()
        admin = AdminClient(base_url)
        seed(admin, args.members, args.bursts)
        wait_for_fresh_window(origin, args.scale)
        read, pages, throttled, wall = asyncio.run(read_all(base_url, args.scale))
        server_throttled = admin.stats()["throttled"]
        admin.close()
    finally:
        child.terminate()
        child.join(timeout=10)
    minimum = theoretical_seconds(args.members, args.scale, args.l_steady)
    print(f"members            {read:,}")
    print(f"pages              {pages:,}")
    print(f"wall seconds       {wall:.2f}")
    print(
        f"theoretical min s  {minimum:.2f}  (time scale {args.scale:g}, L steady "
        f"{args.l_steady}, remaining noise {args.remaining_noise:g})"
    )
    print(f"ratio              {wall / minimum:.3f}")
    print(f"429s received      {throttled} (sandbox counted {server_throttled})")
    if read != args.members:
        raise SystemExit(f"read {read:,} members, expected {args.members:,}")


if __name__ == "__main__":
    main()
