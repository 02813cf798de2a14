"""Where a benchmark child's memory peaks: with ``BENCH_PEAK_STACK=1`` in the environment, a
thread samples the process's RSS every 20 ms together with the busiest thread's Python stack, and
the child prints (to stderr) the stacks at the highest samples and the most sampled places
when it ends (``BENCH_PEAK_STACK=timeline``: also the highest sample of each second).

A tool for finding what to shrink, not a measurement: the figures the benchmarks report come
from ``VmHWM`` (``child.peak_rss_mb``), which this does not change.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections import Counter
from pathlib import Path
from types import FrameType

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 1e6


class PeakStack:
    """Samples RSS and the main thread's stack until stopped."""

    def __init__(self, every: float = 0.02) -> None:
        self._every = every
        self._done = threading.Event()
        self.samples: list[tuple[float, list[str]]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PeakStack:
        self._thread.start()
        return self

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._done.wait(self._every):
            stacks = [_ours(f) for ident, f in sys._current_frames().items() if ident != me]
            busiest = max(stacks, key=len, default=[])  # the main thread, or a worker it awaits
            self.samples.append((_rss_mb(), busiest[-6:]))

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
        if os.environ.get("BENCH_PEAK_STACK") == "timeline":
            lines += self._timeline()
        lines.append(f"  where the time went (of {len(self.samples)} samples):")
        counts = Counter(" > ".join(stack[-3:]) for _, stack in self.samples)
        for where, count in counts.most_common(top * 2):
            lines.append(f"  {count:6d}  {where}")
        return "\n".join(lines)

    def _timeline(self, seconds: float = 1.0) -> list[str]:
        """The highest sample of each ``seconds`` with its stack (``BENCH_PEAK_STACK=timeline``):
        how the memory rises and falls through the steps, not only its peak."""
        per = max(1, round(seconds / self._every))
        lines = ["  timeline (highest sample of each second):"]
        for start in range(0, len(self.samples), per):
            rss, stack = max(self.samples[start : start + per], key=lambda s: s[0])
            lines.append(f"  {start * self._every:6.1f}s {rss:7.0f} MB  " + " > ".join(stack[-3:]))
        return lines


def _ours(frame: FrameType) -> list[str]:
    """The project's frames of a thread's stack (no library or standard library frames)."""
    return [
        f"{Path(f.filename).name}:{f.lineno} {f.name}"
        for f in traceback.extract_stack(frame)
        if "site-packages" not in f.filename and "/lib/python" not in f.filename
    ]


def maybe_start() -> PeakStack | None:
    """A running sampler if ``BENCH_PEAK_STACK`` is set."""
    return PeakStack().start() if os.environ.get("BENCH_PEAK_STACK") else None
