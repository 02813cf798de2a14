"""Progress output for apply: rich bars on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class BarProgress:
    """Rich progress bars (stderr), one per task, shown from the first task on."""

    def __init__(self) -> None:
        self._bars = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            TextColumn("{task.completed:>9,.0f}/{task.total:,.0f}", style="progress.download"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def __enter__(self) -> BarProgress:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._started:
            self._bars.stop()

    def start(self, task: str, total: int) -> None:
        if not self._started:  # only once work starts: a prompt may come first
            self._bars.start()
            self._started = True
        self._tasks[task] = self._bars.add_task(task, total=total)

    def advance(self, task: str, amount: int) -> None:
        if task in self._tasks:
            self._bars.advance(self._tasks[task], amount)

    def note(self, text: str) -> None:
        self._bars.console.print(text)

    def suspend(self) -> None:
        """Stop the live bars (before a prompt: a live display redraws over it); the next
        task starts them again."""
        if self._started:
            self._bars.stop()
            for task in list(self._tasks.values()):
                self._bars.remove_task(task)
            self._tasks.clear()
            self._started = False


class LineProgress:
    """Plain progress lines (stderr) at most every few seconds per task, for CI logs."""

    def __init__(self, every: float = 5.0) -> None:
        self._every = every
        self._state: dict[str, tuple[int, int, float]] = {}

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def start(self, task: str, total: int) -> None:
        self._state[task] = (0, total, time.monotonic())
        click.echo(f"{task}: 0/{total:,}", err=True)

    def advance(self, task: str, amount: int) -> None:
        done, total, last = self._state.get(task, (0, 0, 0.0))
        done += amount
        now = time.monotonic()
        if done >= total or now - last >= self._every:
            click.echo(f"{task}: {done:,}/{total:,}", err=True)
            last = now
        self._state[task] = (done, total, last)

    def note(self, text: str) -> None:
        click.echo(text, err=True)

    def suspend(self) -> None:
        return None


def make_progress() -> BarProgress | LineProgress:
    return BarProgress() if sys.stderr.isatty() else LineProgress()
