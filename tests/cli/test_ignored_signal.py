"""A signal whose exception Python ignored still stops the command.

A console handler stops the command by raising; when the signal lands while Python runs a
finalizer (or any code whose exceptions it ignores), the exception is printed as "Exception
ignored in ..." and dropped, and the command went on: a CI run saw an interrupted apply import
and remove members after its SIGTERM. Each step that takes over checks for such a signal."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from reconciler import signals
from reconciler.engine.stopping import Interrupted, StopSignal, run_stoppable

CHILD = """
import os, signal, sys, time
from reconciler import signals
from reconciler.cli import main as cli_main

signals.quiet_dropped(KeyboardInterrupt)  # as the console entry does first
signal.signal(signal.SIGTERM, cli_main._on_signal)


class Finalised:
    def __del__(self) -> None:  # the handler runs here: its exception is ignored
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs before this returns: inside the finalizer


Finalised()
print("carried on", flush=True)
sys.argv = ["reconciler", *sys.argv[1:]]
cli_main.main()
"""


@pytest.mark.parametrize("argv", [["--version"], ["validate", "--help"]])
def test_the_console_stops_on_a_signal_whose_exception_was_ignored(argv: list[str]) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, timeout=60
    )
    assert run.stdout.strip() == "carried on", run.stdout  # no version, no help
    assert run.returncode == 128 + signal.SIGTERM, (run.returncode, run.stderr)
    # one line: the dropped exception is not printed ("Exception ignored in ...", a traceback)
    assert run.stderr.strip().splitlines() == ["interrupted by SIGTERM"], run.stderr


def test_an_apply_loop_stops_on_a_signal_noted_before_it_took_over() -> None:
    started: list[bool] = []

    async def main() -> None:
        started.append(True)

    signals.note(signal.SIGINT)  # as the console's handler does before raising
    stop = StopSignal()
    with pytest.raises(Interrupted) as raised:
        run_stoppable(main(), stop)
    assert raised.value.signum == signal.SIGINT and started == []
    assert signals.take() is None  # acted on once
