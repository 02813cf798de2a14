"""The bulk import jobs one run submitted to one account, in order, and the pace at which the
account processes them: shared by every export (and every key) of that account in the run, so
that an export waiting behind the others' jobs knows when its own can end.

Klaviyo works through an account's import jobs one after another, in the order they were
created. Whoever polls a job that is processing tells the queue where the account's worker is
(the *anchor*: that job, when, how many profiles done) and, from two polls of one job, how fast
it goes. A job later in the queue can then end no earlier than the work left from the anchor up
to and including it, at that pace. Jobs of others (another integration, an earlier run) that sit
in the queue make that estimate early, never late: the waiter polls again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from reconciler.klaviyo.models import JobStatus


@dataclass(frozen=True, slots=True)
class _Seen:
    at: float  # time.monotonic() of the answer
    done: int  # profiles completed or failed by then


class AccountJobs:
    """The run's import jobs of one account, in submission order, and the account's pace."""

    def __init__(self) -> None:
        self.rate: float | None = None  # profiles per real second
        self._order: dict[str, int] = {}  # job id -> position in submission order
        self._totals: list[int] = []  # profiles per job, in that order
        self._seen: dict[str, _Seen] = {}  # the last poll of each job seen processing
        self._anchor: str | None = None  # the job of the latest such poll
        self._lock = threading.Lock()

    def submitted(self, job_id: str, total: int) -> None:
        """A job this run created (or found it had created) with ``total`` profiles."""
        with self._lock:
            if job_id not in self._order:
                self._order[job_id] = len(self._totals)
                self._totals.append(total)

    def submitted_jobs(self) -> tuple[str, ...]:
        """The ids, in submission order."""
        with self._lock:
            return tuple(self._order)

    def observe(self, status: JobStatus, now: float) -> None:
        """A poll's answer: a processing job moves the anchor and, seen twice with progress
        in between, measures the pace."""
        done = status.completed + status.failed
        if status.finished or done <= 0:
            return
        with self._lock:
            last = self._seen.get(status.job_id)
            if last is not None and last.done < done and now > last.at:
                self.rate = (done - last.done) / (now - last.at)
            self._seen[status.job_id] = _Seen(now, done)
            self._anchor = status.job_id

    def seconds_left(self, status: JobStatus, now: float) -> float | None:
        """The earliest the job can end from ``now`` at the account's pace (None: no pace
        yet): its own work left, or more if the run's jobs ahead of it still have work."""
        rate = self.rate
        if rate is None or rate <= 0:
            return None
        own = max(0, status.total - status.completed - status.failed) / rate
        with self._lock:
            ahead = self._ahead(status.job_id, rate, now)
        return max(own, ahead)

    def _ahead(self, job_id: str, rate: float, now: float) -> float:
        """Seconds from ``now`` until the worker, from the anchor on, is through ``job_id``."""
        position = self._order.get(job_id)
        anchor = self._anchor
        if position is None or anchor is None or anchor not in self._order:
            return 0.0
        start = self._order[anchor]
        if position < start:
            return 0.0  # the worker is past it already
        seen = self._seen[anchor]
        work = sum(self._totals[start : position + 1]) - seen.done
        return seen.at + work / rate - now
