"""Bulk import jobs: status polling, per-profile import errors, jobs still running for a list,
and finding, by its content, a job whose creation answer was lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.klaviyo.endpoints import (
    GET_IMPORT_ERRORS,
    GET_IMPORT_JOB,
    GET_IMPORT_JOBS,
    GET_IMPORT_PROFILES,
    GET_LIST_PROFILES,
    Endpoint,
)
from reconciler.klaviyo.errors import JobTimeoutError, NotFoundError
from reconciler.klaviyo.jobqueue import AccountJobs
from reconciler.klaviyo.jsonapi import (
    attributes,
    data_list,
    data_object,
    document,
    next_link,
    parse_time,
    quoted_list,
    related_ids,
)
from reconciler.klaviyo.models import GONE, ImportFailure, JobResult, JobStatus
from reconciler.klaviyo.transport.sender import Params, Sender

MIN_POLL_FRACTION = 0.1  # the shortest pause between two polls, as a share of the interval
MAX_POLL_FACTOR = 10  # the longest, as a multiple of it
CLOCK_SKEW = dt.timedelta(seconds=10)
SAMPLE = 100  # emails of a candidate job compared with a lost submission's


class Jobs:
    """Job queries of one client."""

    def __init__(self, sender: Sender, base_url: str, time_scale: float) -> None:
        self._sender = sender
        self._base_url = base_url
        self._scale = time_scale
        self.settle_delay = 0.5 / time_scale
        # jobs this client created or recovered: never claimed again by another submission
        self.claimed: set[str] = set()
        self.recovery = asyncio.Lock()  # one lookup at a time: a candidate is claimed once

    @property
    def queue(self) -> AccountJobs:
        """The run's jobs of this client's account (its pacer's, once the account is known)."""
        return self._sender.pacer.jobs

    def claim(self, job_id: str, total: int) -> None:
        """A job this client created with ``total`` profiles: claimed, and queued in order."""
        self.claimed.add(job_id)
        self.queue.submitted(job_id, total)

    async def status(self, job_id: str) -> JobStatus:
        """The job's progress; status ``gone`` if the server no longer knows it (404: jobs
        expire at their ``expires_at``), never an error that could pass for a missing list."""
        path = GET_IMPORT_JOB.path(job_id=job_id)
        try:
            response = await self._sender.request(GET_IMPORT_JOB, path)
        except NotFoundError:
            return JobStatus(job_id=job_id, status=GONE, total=0, completed=0, failed=0)
        return job_status(data_object(document(response, "GET", path)))

    async def wait(
        self,
        job_ids: Sequence[str],
        poll_interval: float,
        on_progress: Callable[[JobStatus], None] | None,
        timeout: float | None,
    ) -> list[JobResult]:
        """Poll the oldest unfinished job (Klaviyo works through an account's jobs in order);
        once it is finished, the next one at once. Between polls, sleep until the job should
        be done at the pace seen so far (see ``_Pace``): the wait ends soon after the last job
        does, with about two polls per job (the M tier allows 150 a minute).

        ``timeout`` (server seconds, like ``poll_interval``) bounds the whole wait: past it,
        :class:`JobTimeoutError` names the jobs still unfinished. A job the server no longer
        knows ends the wait for it with status ``gone``."""
        deadline = None if timeout is None else time.monotonic() + timeout / self._scale
        waiting = list(dict.fromkeys(job_ids))
        finished: dict[str, JobStatus] = {}
        pace = _Pace(poll_interval / self._scale, self.queue)
        while waiting:
            status = await self.status(waiting[0])
            if on_progress is not None:
                on_progress(status)
            if status.finished:
                finished[status.job_id] = status
                waiting.pop(0)
                continue
            if deadline is not None and time.monotonic() > deadline:
                raise _timed_out(waiting, timeout or 0.0)
            pause = pace.pause(status)
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()) + 1e-3)
            await self._sender.sleep(pause)
        return [await self._result(finished[j]) for j in dict.fromkeys(job_ids)]

    async def _result(self, status: JobStatus) -> JobResult:
        failures = status.failed and not status.gone
        errors = await self.import_errors(status.job_id) if failures else []
        return JobResult(
            status.job_id, status.status, status.total, status.completed, status.failed, errors
        )

    async def import_errors(self, job_id: str) -> list[ImportFailure]:
        path = GET_IMPORT_ERRORS.path(id=job_id)
        return [
            _failure(item)
            for item in await self._collect(GET_IMPORT_ERRORS, path, {"page[size]": 100})
        ]

    async def running_for_list(self, list_id: str) -> list[str]:
        """Ids of queued or processing jobs that add to ``list_id``."""
        params: Params = {
            "filter": f"any(status,{quoted_list(['queued', 'processing'])})",
            "page[size]": 100,
        }
        jobs = await self._collect(GET_IMPORT_JOBS, GET_IMPORT_JOBS.path(), params)
        found: list[str] = []
        for job in jobs:
            if list_id in await self._lists_of(job):
                found.append(str(job["id"]))
        return found

    async def find_created(
        self, list_id: str, emails: Collection[str], since: dt.datetime
    ) -> Match:
        """The job a lost submission of ``emails`` to ``list_id`` created, if it did.

        A candidate was created since ``since`` (less clock skew), adds to ``list_id``, is not
        claimed yet and has ``len(emails)`` profiles; it is the one only if a sample of its
        profiles (the first page of its ``profiles`` relationship) are all among ``emails``: two
        submissions of one size (two slices in flight) are never taken for each other. The
        candidates whose profiles cannot be seen (yet) are returned as undecided."""
        params: Params = {"sort": "-created_at", "page[size]": 100}
        path = GET_IMPORT_JOBS.path()
        response = await self._sender.request(GET_IMPORT_JOBS, path, params=params)
        wanted = frozenset(emails)
        undecided: list[str] = []
        candidates: list[tuple[dt.datetime, str]] = []
        for job in data_list(document(response, "GET", path)):
            attrs = attributes(job)
            created = parse_time(attrs.get("created_at"))
            job_id = str(job.get("id"))
            if created is None or created < since - CLOCK_SKEW or job_id in self.claimed:
                continue
            if attrs.get("total_count") != len(wanted) or list_id not in await self._lists_of(job):
                continue
            sample = await self.sample_emails(job_id)
            if not sample:
                undecided.append(job_id)
            elif sample <= wanted:
                candidates.append((created, job_id))
        if candidates:
            return Match(min(candidates)[1], ())
        return Match(None, tuple(reversed(undecided)))  # oldest first

    async def all_members(self, list_id: str, emails: Sequence[str]) -> bool:
        """Whether every one of ``emails`` (at most 100) is a member of the list now."""
        path = GET_LIST_PROFILES.path(id=list_id)
        params: Params = {
            "filter": f"any(email,{quoted_list(list(emails))})",
            "fields[profile]": "email",
            "page[size]": 100,
        }
        found = {
            str(attributes(item).get("email") or "").strip().lower()
            for item in await self._collect(GET_LIST_PROFILES, path, params)
        }
        return set(emails) <= found

    async def sample_emails(self, job_id: str) -> frozenset[str]:
        """The emails of the first profiles of a job (lower-cased); empty if none show (yet)."""
        path = GET_IMPORT_PROFILES.path(id=job_id)
        params: Params = {"fields[profile]": "email", "page[size]": SAMPLE}
        try:
            response = await self._sender.request(GET_IMPORT_PROFILES, path, params=params)
        except NotFoundError:
            return frozenset()
        found = (
            attributes(item).get("email") for item in data_list(document(response, "GET", path))
        )
        return frozenset(e.strip().lower() for e in found if isinstance(e, str))

    async def _lists_of(self, job: dict[str, Any]) -> list[str]:
        lists = related_ids(job, "lists")
        if lists is not None:
            return lists
        path = GET_IMPORT_JOB.path(job_id=str(job.get("id")))
        response = await self._sender.request(GET_IMPORT_JOB, path, params={"include": "lists"})
        return related_ids(data_object(document(response, "GET", path)), "lists") or []

    async def _collect(self, endpoint: Endpoint, path: str, params: Params) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        response = await self._sender.request(endpoint, path, params=params)
        while True:
            body = document(response, "GET", path)
            items.extend(data_list(body))
            url = next_link(body, self._base_url)
            if url is None:
                return items
            response = await self._sender.request(endpoint, path, url=url)


@dataclass(frozen=True, slots=True)
class Match:
    """What a lookup for a lost submission found: the job id, or None; ``undecided`` names
    the candidates whose profiles could not be seen (yet)."""

    job_id: str | None
    undecided: tuple[str, ...]

    @property
    def decided(self) -> bool:
        return self.job_id is not None or not self.undecided


def _timed_out(waiting: Sequence[str], timeout: float) -> JobTimeoutError:
    shown = ", ".join(waiting[:10]) + (f" (+{len(waiting) - 10} more)" if len(waiting) > 10 else "")
    return JobTimeoutError(
        f"{len(waiting)} bulk import job(s) still unfinished after {timeout:g} s: {shown}",
        job_ids=waiting,
        hint="another integration may be importing into this list; look the jobs up in "
        "Klaviyo, wait for them or cancel them, then run again (or raise --job-timeout)",
    )


class _Pace:
    """How long to wait before polling again (real seconds; ``interval`` is the scaled poll
    interval).

    Klaviyo reports each job's progress, not when it will end. The pace at which the
    account's jobs are processed is measured by :class:`AccountJobs` (shared by every export
    and key of the account in the run) between two polls of one job that both saw it
    processing; the work a job has left at that pace, or the work of the run's jobs queued
    ahead of it, is then the earliest it can end, so polling then is never early by much and
    rarely late. Until a pace is known, polls start short and double; a job that makes no
    progress between two polls is polled half as often each time."""

    def __init__(self, interval: float, queue: AccountJobs | None = None) -> None:
        self._shortest = interval * MIN_POLL_FRACTION
        self._longest = interval * MAX_POLL_FACTOR
        self._next_blind = self._shortest
        self._queue = queue or AccountJobs()
        self._last: tuple[str, int] | None = None  # job, profiles done
        self._pause = self._shortest

    def pause(self, status: JobStatus) -> float:
        now = time.monotonic()
        done = status.completed + status.failed
        last, self._last = self._last, (status.job_id, done)
        self._queue.observe(status, now)
        left = self._queue.seconds_left(status, now)
        if left is None:
            blind, self._next_blind = self._next_blind, min(self._next_blind * 2, self._longest)
            pause = self._shortest * 2 if done > 0 else blind
        elif last == self._last and done > 0:
            pause = self._pause * 2  # no progress since the last poll: back off
        else:
            pause = left
        self._pause = min(self._longest, max(self._shortest, pause))
        return self._pause


def job_status(job: dict[str, Any]) -> JobStatus:
    attrs = attributes(job)
    return JobStatus(
        job_id=str(job.get("id")),
        status=str(attrs.get("status") or "queued"),
        total=int(attrs.get("total_count") or 0),
        completed=int(attrs.get("completed_count") or 0),
        failed=int(attrs.get("failed_count") or 0),
    )


def _failure(item: dict[str, Any]) -> ImportFailure:
    attrs = attributes(item)
    payload = attrs.get("original_payload")
    email = ""
    if isinstance(payload, dict):
        inner = payload.get("attributes")
        source = inner if isinstance(inner, dict) else payload
        email = str(source.get("email") or "")
    reason = str(attrs.get("detail") or attrs.get("title") or attrs.get("code") or "failed")
    return ImportFailure(email.strip().lower() or "(unknown)", reason)
