"""The console entry point (``reconciler``, ``python -m reconciler.cli.entry``).

It installs SIGINT/SIGTERM handlers before anything heavy is imported: a Ctrl-C while Python
loads the command's modules ends it with one line (``interrupted by SIGINT``, exit 130), not an
import traceback. :func:`reconciler.cli.main.main` then installs the command's own handlers.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from reconciler import signals


class _Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: FrameType | None) -> None:
    signals.note(signum)  # acted on later if Python ignores the exception (see signals)
    raise _Interrupted(signum)


def main() -> None:
    signals.quiet_dropped(KeyboardInterrupt)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    try:
        from reconciler.cli.main import main as run
    except KeyboardInterrupt as exc:
        signals.take()
        _exit(getattr(exc, "signum", signal.SIGINT))
    run()


def _exit(signum: int) -> None:
    sys.stderr.write(f"interrupted by {signal.Signals(signum).name}\n")
    sys.exit(128 + signum)


if __name__ == "__main__":
    main()
