"""Declarative reconciler that exports customer segments to Klaviyo lists."""

import os

# Arrow's allocator (mimalloc) returns freed pages to the system at once instead of after a
# delay, and commits its arenas' memory only as it is used: a plan of a million profiles
# frees large buffers in one thread (the segment read) and allocates in another, and would
# otherwise peak with both (~60 MB more). Set before pyarrow loads; the environment wins.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")
os.environ.setdefault("MIMALLOC_ARENA_EAGER_COMMIT", "0")

__version__ = "0.1.0"
