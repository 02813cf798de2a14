"""A signal that lands while the event loop is being built ends the run cleanly: Interrupted,
nothing printed by a half-built loop (seen as "Exception ignored in BaseEventLoop.__del__ ...
AttributeError: _signal_handlers" after a Ctrl-C at the very start of a plan)."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.engine.stopping import Interrupted, StopSignal, run_stoppable


class _SignalledLoop(asyncio.SelectorEventLoop):
    """A loop whose construction receives a real SIGINT half-way (before asyncio's own
    ``__init__`` has set its attributes), as a Ctrl-C can."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        signal.raise_signal(signal.SIGINT)
        super().__init__(*args, **kwargs)


class _Policy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return _SignalledLoop()


@pytest.fixture
def signalled_loops() -> Iterator[None]:
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(_Policy())
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)


def test_a_signal_while_the_loop_is_built_interrupts_cleanly(
    signalled_loops: None, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[bool] = []
    ignored: list[str] = []  # what Python reports as "Exception ignored in ..."
    monkeypatch.setattr(sys, "unraisablehook", lambda u: ignored.append(repr(u.exc_value)))

    async def main() -> str:
        started.append(True)
        return "ran"

    stop = StopSignal()
    with pytest.raises(Interrupted):
        run_stoppable(main(), stop)
    gc.collect()  # a half-built loop would complain here, in its __del__
    assert stop.signum == signal.SIGINT
    assert started == []  # the run's work never began
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert ignored == []
