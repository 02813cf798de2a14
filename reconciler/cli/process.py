"""Process-wide settings of the ``reconciler`` command (only the command owns its process).

:func:`prepare_process` runs first thing in ``main()``, before any command imports pyarrow.
"""

from __future__ import annotations

import gc
import os

# Generation 0 is collected after 50,000 net container allocations instead of 700. A plan or
# an apply of a million profiles keeps that many small objects alive (parsed pages, profiles,
# the sandbox's store) and every request allocates hundreds more: with the defaults the
# collector walks the live objects again and again (about a tenth of a full read's CPU, more
# in the sandbox). Reference counting still frees everything that is not in a cycle at once.
GC_THRESHOLDS = (50_000, 50, 100)

# Arrow's allocator (mimalloc) returns freed pages to the system at once instead of after a
# delay, and commits its arenas' memory only as it is used: a plan of a million profiles
# frees large buffers in one thread (the segment read) and allocates in another, and would
# otherwise peak with both (~60 MB more). Read by mimalloc when pyarrow loads; the
# environment wins; child processes inherit them.
ALLOCATOR_DEFAULTS = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def set_allocator_defaults() -> None:
    """Set the allocator defaults unless the environment sets them (before pyarrow loads)."""
    for name, value in ALLOCATOR_DEFAULTS.items():
        os.environ.setdefault(name, value)


def prepare_process() -> None:
    """Everything the command sets for its whole process."""
    set_allocator_defaults()
    tune_gc()
