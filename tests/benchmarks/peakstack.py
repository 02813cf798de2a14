"""Where a benchmark child's memory peaks: with ``BENCH_PEAK_STACK=1`` in the environment, a
thread samples the process's RSS every 20 ms together with the main thread's Python stack, and
the child prints (to stderr) the stacks at the highest samples when it ends.

A tool for finding what to shrink, not a measurement: the figures the benchmarks report come
from ``VmHWM`` (``child.peak_rss_mb``), which this does not change.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 1e6


class PeakStack:
    """Samples RSS and the main thread's stack until stopped."""

    def __init__(self, every: float = 0.02) -> None:
        self._every = every
        self._done = threading.Event()
        self._main = threading.main_thread().ident
        self.samples: list[tuple[float, list[str]]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PeakStack:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(self._every):
            frame = sys._current_frames().get(self._main or 0)
            if frame is None:
                continue
            stack = [
                f"{Path(f.filename).name}:{f.lineno} {f.name}"
                for f in traceback.extract_stack(frame)
                if "site-packages" not in f.filename and "/lib/python" not in f.filename
            ]
            self.samples.append((_rss_mb(), stack[-6:]))

    def report(self, top: int = 5) -> str:
        self._done.set()
        self._thread.join()
        if not self.samples:
            return "peak stack: no samples"
        lines = [f"peak stack: {len(self.samples)} samples, peak {max(self.samples)[0]:.0f} MB"]
        seen: set[str] = set()
        for rss, stack in sorted(self.samples, key=lambda s: -s[0]):
            where = stack[-1] if stack else "?"
            if where in seen:
                continue
            seen.add(where)
            lines.append(f"  {rss:7.0f} MB  " + " > ".join(stack))
            if len(seen) >= top:
                break
        return "\n".join(lines)


def maybe_start() -> PeakStack | None:
    """A running sampler if ``BENCH_PEAK_STACK`` is set."""
    return PeakStack().start() if os.environ.get("BENCH_PEAK_STACK") else None
