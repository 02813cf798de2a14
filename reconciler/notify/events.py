"""Which events a finished (or interrupted) apply triggers for one Notification."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.models import Notification, Threshold

EVENT_ORDER = ("failed", "partial", "blocked", "interrupted", "volume")


@dataclass(frozen=True)
class ExportRun:
    """One export of a run: its counts, the list size before it, masked samples."""

    name: str
    list_id: str
    outcome: str
    added: int = 0
    removed: int = 0
    failed: int = 0
    list_before: int | None = None
    error: str | None = None
    add_samples: tuple[str, ...] = ()
    remove_samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    """What a notification tells about one run (no key, no address: masked samples only)."""

    run_id: str
    outcome: str
    actor: str
    commit: str | None
    exports: tuple[ExportRun, ...]


def events_of(notification: Notification, run: RunSummary) -> list[str]:
    """The events of ``notification.on`` that ``run`` triggers, in a fixed order."""
    exports = [e for e in run.exports if _watched(notification, e.name)]
    if not exports and notification.exports is not None:
        return []
    found = {e.outcome for e in exports if e.outcome in ("failed", "partial", "blocked")}
    if run.outcome == "interrupted" or any(e.outcome == "interrupted" for e in exports):
        found.add("interrupted")
    if any(_over_volume(notification, e) for e in exports):
        found.add("volume")
    return [event for event in EVENT_ORDER if event in found and event in notification.on]


def _watched(notification: Notification, export: str) -> bool:
    return notification.exports is None or export in notification.exports


def _over_volume(notification: Notification, export: ExportRun) -> bool:
    volume = notification.volume
    return _over(export.removed, volume.removals, export.list_before) or _over(
        export.added, volume.adds, export.list_before
    )


def _over(count: int, threshold: Threshold | None, before: int | None) -> bool:
    """More than a count, or more than a percentage of the list before the run."""
    if threshold is None or count == 0:
        return False
    if isinstance(threshold, int):
        return count > threshold
    if not before:  # a percentage of an empty (or unknown) list: every change is over it
        return True
    return count * 100 > before * float(threshold.rstrip("%"))
