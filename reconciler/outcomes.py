"""How a run or one export of it ended: one enum for executor, stages, journal, renderers, runs.

A :class:`~enum.StrEnum`: members compare equal to their journal strings, so records written
before (and the ``runs --json`` output) keep their values. ``running`` is what the journal
holds for a run that has not finished (or whose process died).
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCHANGED = "unchanged"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    RUNNING = "running"


FINAL_OUTCOMES = frozenset(Outcome) - {Outcome.RUNNING}
# outcomes an export reports as a problem (exit code 1)
PROBLEMS = frozenset({Outcome.FAILED, Outcome.PARTIAL, Outcome.BLOCKED, Outcome.INTERRUPTED})
