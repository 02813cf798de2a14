"""Process-wide settings of the ``reconciler`` command (only the command owns its process)."""

from __future__ import annotations

import gc

# Generation 0 is collected after 50,000 net container allocations instead of 700. A plan or
# an apply of a million profiles keeps that many small objects alive (parsed pages, profiles,
# the sandbox's store) and every request allocates hundreds more: with the defaults the
# collector walks the live objects again and again (about a tenth of a full read's CPU, more
# in the sandbox). Reference counting still frees everything that is not in a cycle at once.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
