"""Graceful interruption of an apply: the first SIGINT/SIGTERM asks it to stop between batches,
a second one aborts at once.

:class:`StopSignal` is the flag the executor checks between slices of work; :func:`catch_signals`
installs the handlers that set it (only in the main thread, where Python delivers signals).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

from reconciler.errors import ReconcilerError

T = TypeVar("T")

HANDLED = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class ApplyInterrupted(ReconcilerError):
    """An apply stopped early on a signal; exits 128 + the signal number (130, 143)."""

    hint = (
        "run the same apply again: it waits for the import jobs still pending, re-plans and "
        "applies only what is left"
    )

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class StopSignal:
    """Set once when a stop is requested; awaitable inside the event loop that checks it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        # True once changes are being sent: before that a signal aborts at once (nothing to
        # finish), after it the first signal lets the batch in flight finish.
        self.sending = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the run to stop (safe to call from a signal handler or another thread)."""
        if self.signum is None:
            self.signum = signum
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def bind(self) -> None:
        """Attach to the running event loop (call first thing inside it)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        if self.requested:
            self._event.set()

    async def race(self, awaitable: Awaitable[T]) -> T | None:
        """``awaitable``'s result, or None (having cancelled it) if a stop comes first."""
        task = asyncio.ensure_future(awaitable)
        if self._event is None:
            return await task
        waiter = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None


@contextlib.contextmanager
def catch_signals(stop: StopSignal) -> Iterator[None]:
    """While inside: a SIGINT/SIGTERM calls ``stop.request``; it also raises KeyboardInterrupt
    (abort at once) if it is the second one, or if no change is being sent yet. Does nothing
    outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        second = stop.requested
        stop.request(signum)
        if second or not stop.sending:
            _restore(previous)
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handle) for sig in HANDLED}
    try:
        yield
    finally:
        _restore(previous)


Handler = Callable[[int, FrameType | None], Any] | int | None


def _restore(previous: dict[signal.Signals, Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
