"""Asynchronous bulk profile import jobs: queued -> processing -> complete (or cancelled).

Each account has one FIFO worker that processes profiles in chunks at ``import_rate`` profiles
per virtual second, yielding to the event loop between chunks. List membership changes when a
job reaches its final state, for the profiles that were processed without error. A row whose
identifiers (email, phone number, external id) point at two different profiles is an import
error of its own (Klaviyo keys profiles by each identifier; it does not merge them silently).
With a count lag, ``profile_count`` shows a finished job's change only that much later.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from reconciler.sandbox.clock import VirtualClock, utc_now_us
from reconciler.sandbox.ids import new_ulid
from reconciler.sandbox.store import Account, SandboxStore

CHUNK = 500
QUEUE_DELAY = 0.5  # virtual seconds a job stays queued
MAX_PROFILE_BYTES = 100 * 1024
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(slots=True)
class PendingProfile:
    position: int
    email: str | None
    attributes: dict[str, Any]
    payload: dict[str, Any]
    phone: str | None = None
    external: str | None = None
    patch: dict[str, Any] | None = None  # meta.patch_properties: append, unappend, unset


@dataclass
class ImportFailure:
    id: str
    code: str
    title: str
    detail: str
    pointer: str
    payload: dict[str, Any]


@dataclass
class BulkJob:
    id: str
    created_us: int
    list_ids: list[str]
    pending: list[PendingProfile]
    cancel_halfway: bool = False
    status: str = "queued"
    started_us: int | None = None
    completed_us: int | None = None
    completed: int = 0
    failed: int = 0
    profile_indexes: list[int] = field(default_factory=list)
    errors: list[ImportFailure] = field(default_factory=list)
    queued_at: float = field(default_factory=time.monotonic)
    total: int = -1
    ttl_us: int = 7 * 86_400 * 1_000_000

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.pending)

    @property
    def expires_us(self) -> int:
        return self.created_us + self.ttl_us

    def expired(self, now_us: int) -> bool:
        return now_us >= self.expires_us


class JobRunner:
    """Owns the per-account queues and the asyncio tasks that drain them."""

    def __init__(
        self, store: SandboxStore, clock: VirtualClock, import_rate: float, count_lag: float = 0.0
    ) -> None:
        self.store = store
        self.clock = clock
        self.import_rate = import_rate
        self.count_lag = count_lag  # virtual seconds
        self._queues: dict[str, deque[BulkJob]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._free_at: dict[str, float] = {}  # when each account's worker is through its jobs
        self._generation = 0

    def submit(self, account: Account, job: BulkJob) -> None:
        """Queue ``job`` (already stored in ``account.jobs``) and make sure a worker runs."""
        self._queues.setdefault(account.key, deque()).append(job)
        loop = asyncio.get_running_loop()
        task = self._tasks.get(account.key)
        if task is None or task.done() or task.get_loop() is not loop:
            self._tasks[account.key] = loop.create_task(self._drain(account, self._generation))

    @property
    def generation(self) -> int:
        """Changes on every reset: work scheduled before a reset checks it and gives up."""
        return self._generation

    def reset(self) -> None:
        """Forget every queue; running workers notice the new generation and stop."""
        self._generation += 1
        self._queues.clear()
        self._tasks.clear()
        self._free_at.clear()

    async def _drain(self, account: Account, generation: int) -> None:
        queue = self._queues.get(account.key)
        while queue and generation == self._generation:
            job = queue[0]
            await self._run(account, job, generation)
            if generation == self._generation and queue and queue[0] is job:
                queue.popleft()

    async def _run(self, account: Account, job: BulkJob, generation: int) -> None:
        """Process ``job`` on the account's worker timeline: it starts once queued for
        ``QUEUE_DELAY`` and the job before it is through, and the pace counts from then. A worker
        that fell behind (the event loop was busy answering requests, which Klaviyo does on
        other machines) catches up, so one account's requests do not slow another's imports."""
        ready_at = job.queued_at + self.clock.real_seconds(QUEUE_DELAY)
        started = max(ready_at, self._free_at.get(account.key, 0.0))
        await asyncio.sleep(max(0.0, started - time.monotonic()))
        if generation != self._generation:
            return
        with self.store.lock:
            job.status = "processing"
            job.started_us = utc_now_us()
        real_rate = self.import_rate * self.clock.time_scale
        stop_at = job.total // 2 if job.cancel_halfway else job.total
        self._free_at[account.key] = started + stop_at / real_rate
        done = 0
        while done < stop_at and generation == self._generation:
            chunk = job.pending[done : min(done + CHUNK, stop_at)]
            with self.store.lock:
                _process(account, job, chunk)
            done += len(chunk)
            await asyncio.sleep(max(0.0, started + done / real_rate - time.monotonic()))
        if generation == self._generation:
            with self.store.lock:
                lag = self.clock.real_seconds(self.count_lag)
                _finish(account, job, "cancelled" if job.cancel_halfway else "complete", lag)


def _process(account: Account, job: BulkJob, chunk: list[PendingProfile]) -> None:
    now = utc_now_us()
    by_email: list[PendingProfile] = []  # the common case, done in one batch
    keyed: list[PendingProfile] = []  # rows with a phone number or external id
    for pending in chunk:
        failure = _failure_of(pending)
        if failure is not None:
            _fail(job, failure)
        elif pending.phone is None and pending.external is None:
            by_email.append(pending)
        else:
            keyed.append(pending)
    profiles = account.profiles
    indexes = profiles.ensure([p.email for p in by_email if p.email is not None], now)
    for pending, index in zip(by_email, indexes, strict=True):
        if pending.attributes:
            profiles.merge(index, pending.attributes, now)
        if pending.patch:
            profiles.patch_properties(index, pending.patch, now)
    job.profile_indexes.extend(indexes)
    job.completed += len(by_email)
    for pending in keyed:
        upserted = _upsert_keyed(account, pending, now)
        if upserted is None:
            _fail(job, _conflict(pending))
            continue
        job.profile_indexes.append(upserted)
        job.completed += 1


def _fail(job: BulkJob, failure: ImportFailure) -> None:
    job.errors.append(failure)
    job.failed += 1


def _upsert_keyed(account: Account, pending: PendingProfile, now_us: int) -> int | None:
    """The profile this row creates or updates; None when its identifiers name two profiles."""
    profiles = account.profiles
    owners = profiles.owners(pending.email, pending.phone, pending.external)
    if len(owners) > 1:
        return None
    index = owners.pop() if owners else profiles.new(now_us)
    profiles.identify(index, pending.email, pending.phone, pending.external)
    profiles.merge(index, pending.attributes, now_us)
    if pending.patch:
        profiles.patch_properties(index, pending.patch, now_us)
    return index


def _conflict(pending: PendingProfile) -> ImportFailure:
    given = [
        name
        for name, value in (
            ("email", pending.email),
            ("phone_number", pending.phone),
            ("external_id", pending.external),
        )
        if value is not None
    ]
    detail = (
        f"The identifiers of this profile ({', '.join(given)}) belong to different profiles; "
        "it was not imported."
    )
    pointer = f"/data/attributes/profiles/data/{pending.position}/attributes"
    return _failure(pending, "duplicate_profile", detail, pointer)


def _finish(account: Account, job: BulkJob, status: str, count_lag: float = 0.0) -> None:
    now = utc_now_us()
    for list_id in job.list_ids:
        target = account.lists.get(list_id)
        if target is not None:
            added = target.add(job.profile_indexes, now)
            if count_lag > 0 and added:
                target.lag_count(added, time.monotonic() + count_lag)
    job.status = status
    job.completed_us = now
    job.pending = []  # processed: a million finished profiles need not stay in memory


def _failure_of(pending: PendingProfile) -> ImportFailure | None:
    """Why Klaviyo would refuse this profile while processing the job (None: it would not)."""
    phone = pending.phone
    if phone is not None and not _E164.match(phone):
        code, where = "invalid_phone_number", "/attributes/phone_number"
        detail = f"'{phone}' is not an E.164 phone number such as +15005550006."
    elif len(orjson.dumps(pending.payload)) > MAX_PROFILE_BYTES:
        code, where, detail = "profile_too_large", "", "A profile may hold at most 100 KB."
    else:
        return None
    pointer = f"/data/attributes/profiles/data/{pending.position}{where}"
    return _failure(pending, code, detail, pointer)


def _failure(pending: PendingProfile, code: str, detail: str, pointer: str) -> ImportFailure:
    title = code.replace("_", " ").capitalize() + "."
    return ImportFailure(
        new_ulid(utc_now_us() // 1000), code, title, detail, pointer, pending.payload
    )
