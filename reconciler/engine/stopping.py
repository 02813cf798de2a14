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
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

from reconciler import signals
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


class Interrupted(KeyboardInterrupt):
    """A signal stopped the command (outside the graceful stop of an apply's sending phase);
    the CLI prints one line and exits 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignal:
    """Set once when a stop is requested; awaitable inside the event loop that checks it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        # True once changes are being sent: before that a signal aborts at once (nothing to
        # finish), after it the first signal lets the batch in flight finish.
        self.sending = False
        # > 0 while the loop's thread is inside a blocking call (a prompt, a lock wait) that a
        # signal must interrupt by raising: cancelling the task would wait for it to return.
        self._blocking = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task[Any] | None = None
        # True while an event loop is being built or torn down around the run (between
        # ``asyncio.run`` and the bound task, or after it): a signal then only requests the
        # stop, raising there would leave a half-built loop behind (see run_stoppable).
        self.settling = False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def event(self) -> asyncio.Event | None:
        """Set once a stop is requested (after :meth:`bind`): destinations end their waits on it."""
        return self._event

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the run to stop (safe to call from a signal handler or another thread)."""
        if self.signum is None:
            self.signum = signum
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def bind(self) -> None:
        """Attach to the running event loop and its current task (call first thing inside)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._task = asyncio.current_task()
        if self.requested:
            self._event.set()

    @contextlib.contextmanager
    def blocking(self) -> Iterator[None]:
        """Mark a blocking call in the loop's thread: a signal inside raises Interrupted."""
        self._blocking += 1
        try:
            yield
        finally:
            self._blocking -= 1

    @property
    def in_blocking_call(self) -> bool:
        return self._blocking > 0

    def abort(self) -> bool:
        """Cancel the bound task (at its next await); False when no loop is running it."""
        loop, task = self._loop, self._task
        if loop is None or task is None or loop.is_closed() or not loop.is_running():
            return False
        task.cancel()
        loop.call_soon_threadsafe(lambda: None)  # wake the loop up if it is waiting
        return True

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
            if not task.done():
                task.cancel()
        if not task.cancelled() and task.done():
            return task.result()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None


@contextlib.contextmanager
def catch_signals(stop: StopSignal) -> Iterator[None]:
    """While inside, a SIGINT/SIGTERM calls ``stop.request``. It also aborts at once if it is
    the second one, or if no change is being sent yet: inside a blocking call by raising
    :class:`Interrupted` there; in the event loop by cancelling the bound task (so every
    ``async with`` closes its connections in the loop, and nothing is left pending); outside
    the loop by raising Interrupted. Does nothing outside the main thread.

    Once a signal was received the process is ending: on the way out further SIGINT/SIGTERM
    are ignored, so that the one message about the interruption is printed whole."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    received: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        second = stop.requested
        stop.request(signum)
        if stop.in_blocking_call:
            raise Interrupted(signum)
        if second or not stop.sending:
            if stop.abort() or second or stop.settling:
                return  # a second signal outside the loop: the first one's stop goes on
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handle) for sig in HANDLED}
    noted = signals.take()  # one the console's handler raised for, and Python ignored
    if noted is not None:
        _restore(previous)
        raise Interrupted(noted)
    try:
        yield
    finally:
        if received:
            previous = dict.fromkeys(previous, signal.SIG_IGN)
        _restore(previous)


def run_stoppable(main: Coroutine[Any, Any, T], stop: StopSignal | None = None) -> T:
    """``asyncio.run(main)`` where a SIGINT/SIGTERM (see :func:`catch_signals`) ends it
    cleanly: every task is cancelled and finished inside the loop, then :class:`Interrupted`
    is raised. With ``stop.sending`` set by ``main``, the first signal only sets the flag."""
    stop = stop or StopSignal()

    async def bound() -> T:
        stop.bind()
        stop.settling = False
        try:
            if stop.requested and not stop.sending:  # it came while the loop was being built
                raise asyncio.CancelledError
            return await main
        finally:
            stop.settling = True

    with contextlib.ExitStack() as installed:
        try:  # Interrupted here: a signal noted before these handlers took over
            installed.enter_context(catch_signals(stop))
        except BaseException:
            main.close()
            raise
        stop.settling = True
        try:
            result = asyncio.run(bound())
        except asyncio.CancelledError:
            if stop.signum is None:
                raise
            raise Interrupted(stop.signum) from None
        finally:
            stop.settling = False
            main.close()  # never started when a signal came before the loop ran it
    if stop.signum is not None and not stop.sending:
        raise Interrupted(stop.signum)  # the signal came as the loop was closing
    return result


Handler = Callable[[int, FrameType | None], Any] | int | None


def _restore(previous: dict[signal.Signals, Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
