"""Submits bulk import jobs: one per chunk, concurrently, never duplicated.

- a 400 that names profiles by ``source.pointer`` (``/data/attributes/profiles/data/<i>/...``)
  drops exactly those profiles, records them as rejected and resends the rest;
- a POST whose answer may have been lost (a connection dropped after sending, or 503, 504,
  524, which can come after the job was created) is not sent again blindly: the importer looks
  for the job by its content (created since the first send, adding to the same list, the same
  number of profiles, and a sample of its profiles all among the chunk's: see
  :meth:`Jobs.find_created`) and resubmits only once it is sure there is none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import weakref
from collections.abc import Sequence

from reconciler.klaviyo.chunks import (
    Prepared,
    body_for,
    check_attributes,
    iter_split,
    prepared_any,
)
from reconciler.klaviyo.endpoints import CREATE_IMPORT_JOB
from reconciler.klaviyo.errors import KlaviyoError, ResponseLostError, ValidationError
from reconciler.klaviyo.jobs import Jobs
from reconciler.klaviyo.jsonapi import data_object, document
from reconciler.klaviyo.models import ImportFailure, ProfileInput
from reconciler.klaviyo.transport.sender import Sender
from reconciler.values import ImportSubmission, ProfileRows

_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def encoding_turn() -> asyncio.Lock:
    """The lock of this event loop's chunk encoders: the imports of all exports of an apply
    encode one chunk at a time, in turn, and each chunk's job is submitted right after it is
    encoded (instead of after every other export encoded one), so every account's import queue
    gets its first job early."""
    loop = asyncio.get_running_loop()
    lock = _TURNS.get(loop)
    if lock is None:
        lock = _TURNS[loop] = asyncio.Lock()
    return lock


_POINTER = re.compile(r"^/data/attributes/profiles/data/(\d+)(?:/|$)")
LOOKUPS = 3
MEMBERSHIP_SAMPLE = 20


class BulkImporter:
    """One ``bulk_import`` call."""

    def __init__(self, sender: Sender, jobs: Jobs, list_id: str, max_attempts: int) -> None:
        self._sender = sender
        self._jobs = jobs
        self._list_id = list_id
        self._max_attempts = max(1, max_attempts)
        self.rejected: list[ImportFailure] = []

    async def run(self, profiles: Sequence[ProfileInput] | ProfileRows) -> ImportSubmission:
        """Prepare and submit chunk by chunk: each job is on its way (and being processed by
        Klaviyo) while the next chunk is prepared, instead of after all of them. Columns
        (``ProfileRows``) are encoded a few rows at a time as the chunks fill."""
        check_attributes(profiles)
        tasks: list[asyncio.Task[str | None]] = []
        chunks = iter_split(self._list_id, prepared_any(profiles, self.rejected))
        try:
            while True:
                async with encoding_turn():
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    tasks.append(asyncio.create_task(self._submit(chunk)))
                    await asyncio.sleep(0)  # the submission starts before anyone encodes more
            job_ids = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return ImportSubmission(tuple(j for j in job_ids if j), tuple(self.rejected))

    async def submit(self, chunks: Sequence[list[Prepared]]) -> ImportSubmission:
        """One job per chunk, submitted concurrently (the pacer keeps them in the M tier)."""
        job_ids = await asyncio.gather(*(self._submit(chunk) for chunk in chunks))
        return ImportSubmission(tuple(j for j in job_ids if j), tuple(self.rejected))

    async def _submit(self, chunk: list[Prepared]) -> str | None:
        """The job id for ``chunk`` (None if every profile in it was rejected)."""
        since = dt.datetime.now(dt.UTC)
        for _ in range(self._max_attempts):
            if not chunk:
                return None
            try:
                job_id = await self._post(chunk)
            except ValidationError as exc:
                chunk = self._drop_rejected(chunk, exc)
                continue
            except ResponseLostError:
                found = await self._recover(chunk, since)
                if found is not None:
                    return found
                continue
            self._jobs.claim(job_id, len(chunk))
            return job_id
        raise KlaviyoError(
            f"bulk import of {len(chunk)} profile(s) failed after {self._max_attempts} attempts",
            method="POST",
            path=CREATE_IMPORT_JOB.path(),
        )

    async def _post(self, chunk: list[Prepared]) -> str:
        path = CREATE_IMPORT_JOB.path()
        body = body_for(self._list_id, chunk)
        response = await self._sender.request(CREATE_IMPORT_JOB, path, body=body, idempotent=False)
        job_id = data_object(document(response, "POST", path)).get("id")
        if not isinstance(job_id, str) or not job_id:
            raise KlaviyoError("the bulk import answer carries no job id", method="POST", path=path)
        return job_id

    def _drop_rejected(self, chunk: list[Prepared], exc: ValidationError) -> list[Prepared]:
        """``chunk`` without the profiles a 400 names; re-raise if it names none."""
        named: dict[int, str] = {}
        for error in exc.errors:
            found = _POINTER.match(error.pointer or "")
            if found and int(found.group(1)) < len(chunk):
                named.setdefault(int(found.group(1)), error.detail or error.title or "invalid")
        if not named:
            raise exc
        for index, reason in sorted(named.items()):
            self.rejected.append(ImportFailure(chunk[index].email, reason))
        return [p for i, p in enumerate(chunk) if i not in named]

    async def _recover(self, chunk: list[Prepared], since: dt.datetime) -> str | None:
        """The job a submission of ``chunk`` whose answer was lost created, or None once it is
        sure there is none (a job can take a moment to show in the listing).

        Where a candidate's profiles cannot be seen, its content is checked from the list's
        side: once the undecided candidates have finished, a sample of the chunk's addresses
        must all be members (they were not before: they are the plan's additions)."""
        emails = [p.email for p in chunk]
        async with self._jobs.recovery:
            match = await self._jobs.find_created(self._list_id, emails, since)
            for _ in range(LOOKUPS - 1):
                if match.job_id is not None or match.undecided:
                    break  # found, or candidates to check from the list's side
                await self._sender.sleep(self._jobs.settle_delay)  # not listed yet?
                match = await self._jobs.find_created(self._list_id, emails, since)
            found = match.job_id
            if found is None and match.undecided:
                found = await self._by_membership(match.undecided, emails)
            if found is not None:
                self._jobs.claimed.add(found)
            return found

    async def _by_membership(self, candidates: tuple[str, ...], emails: list[str]) -> str | None:
        await self._jobs.wait(candidates, 1.0, None, None)
        sample = emails[:: max(1, len(emails) // MEMBERSHIP_SAMPLE)][:MEMBERSHIP_SAMPLE]
        return candidates[0] if await self._jobs.all_members(self._list_id, sample) else None
