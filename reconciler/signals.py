"""The stop signals (SIGINT, SIGTERM) the command's early handlers received.

A handler stops the command by raising, but Python loses that exception when the signal lands
while it runs code whose exceptions it ignores (a finalizer, a weakref callback: "Exception
ignored in ..."), and the command would carry on as if no signal had come. So the console's
handlers note each signal here before they raise, and each step that takes over the handling
(the command's start, an apply's own handlers) stops at once on a signal noted and not yet
acted on. Imports nothing: the console entry loads it before anything heavy.
"""

from __future__ import annotations

import sys
from typing import Any

_received: list[int] = []


def note(signum: int) -> None:
    """Record a signal a handler is about to act on (by raising)."""
    _received.append(signum)


def take() -> int | None:
    """The first signal noted and not yet acted on (None: none); it is then acted on."""
    if not _received:
        return None
    first = _received[0]
    _received.clear()
    return first


def quiet_dropped(stop: type[BaseException]) -> None:
    """Keep Python from printing ``Exception ignored in ...`` with a traceback when it drops a
    ``stop`` (a handler's exception: noted, and acted on at the next step); anything else it
    drops is still printed."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, stop) and _received:
            return
        previous(unraisable)

    sys.unraisablehook = hook
