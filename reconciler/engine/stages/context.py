"""What the stages of one export's apply share: the plan, the destination, the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.engine.destination import Destination
from reconciler.engine.progress import Progress
from reconciler.engine.stopping import StopSignal
from reconciler.outcomes import Outcome
from reconciler.plan.model import ExportPlan
from reconciler.state import StateBackend
from reconciler.values import DestinationFacts, ImportFailure

T = TypeVar("T")
ADD_TASK = "add"  # the progress task of the imports: submitted, then completed by the jobs
UPDATE_TASK = "update"  # the same for the imports that re-send changed fields


@dataclass(frozen=True)
class Slicing:
    """How much work one destination call gets; a stop request is honoured between calls.
    None: the destination's own size (``facts.slice_calls`` jobs or removal calls)."""

    add: int | None = None  # profiles per import call
    remove: int | None = None  # profile ids per removal call

    def __post_init__(self) -> None:
        if (self.add is not None and self.add < 1) or (self.remove is not None and self.remove < 1):
            raise ValueError("slice sizes must be at least 1")

    def add_size(self, facts: DestinationFacts) -> int:
        return self.add or facts.slice_calls * facts.job_size

    def remove_size(self, facts: DestinationFacts) -> int:
        return self.remove or facts.slice_calls * facts.remove_chunk


DEFAULT_SLICING = Slicing()


@dataclass
class ExportOutcome:
    """What applying one export did: the journal record's counts, filled in by the stages."""

    name: str
    list_id: str
    added: int = 0
    removed: int = 0
    updated: int = 0
    subscribed: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    job_ids: tuple[str, ...] = ()
    pending_jobs: tuple[str, ...] = ()
    seconds: float = 0.0
    outcome: Outcome = Outcome.SUCCEEDED
    error: str | None = None


@dataclass
class StageContext:
    """One export's apply in progress: every stage reads the plan and writes its part of
    ``outcome`` (and of ``rejected``, the profiles refused before any job ran; ``update_*``:
    the same for the stage that re-sends changed fields)."""

    destination: Destination
    plan: ExportPlan
    state: StateBackend
    run_id: str
    progress: Progress
    stop: StopSignal
    slicing: Slicing
    outcome: ExportOutcome
    rejected: list[ImportFailure] = field(default_factory=list)
    update_rejected: list[ImportFailure] = field(default_factory=list)
    add_jobs: tuple[str, ...] = ()  # the jobs of each import kind (outcome.job_ids: all)
    update_jobs: tuple[str, ...] = ()
    failed_emails: set[str] = field(default_factory=set)  # refused by the destination
    subscribed: list[str] = field(default_factory=list)  # subscribed by this apply

    def task(self, label: str) -> str:
        """The name of this export's progress task ``label`` (``newsletter: add``)."""
        return f"{self.plan.name}: {label}"


def slices(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
