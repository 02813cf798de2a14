"""The async Klaviyo client: the operations the reconciler needs, paced and retried safely."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx

from reconciler.emails import normalise_email
from reconciler.klaviyo import endpoints as ep
from reconciler.klaviyo.bulk import BulkImporter
from reconciler.klaviyo.columns import as_members, unique_emails
from reconciler.klaviyo.errors import KlaviyoConfigError, KlaviyoError, ValidationError
from reconciler.klaviyo.facts import EMAILS_PER_LOOKUP, MEMBER_CHUNK
from reconciler.klaviyo.jobs import Jobs
from reconciler.klaviyo.jsonapi import (
    attributes,
    data_list,
    data_object,
    document,
    encode,
    next_link,
    quoted_list,
    to_micros,
)
from reconciler.klaviyo.listcreate import ListCreator, list_from
from reconciler.klaviyo.lists import AccountList, read_lists
from reconciler.klaviyo.members import MemberReader
from reconciler.klaviyo.models import (
    Account,
    ClientStats,
    JobResult,
    JobStatus,
    KlaviyoList,
    ListMembers,
    Member,
    ProfileInput,
)
from reconciler.klaviyo.pacing import Pacer, PacerRegistry, check_time_scale
from reconciler.klaviyo.secret import ApiKey
from reconciler.klaviyo.subscriptions import Consents, read_consents, subscribe
from reconciler.klaviyo.transport import RetryPolicy, Sender, build_http_client, check_base_url
from reconciler.klaviyo.transport.http import DEFAULT_BASE_URL
from reconciler.klaviyo.transport.retry import DEFAULT_MAX_WAIT, DEFAULT_WAIT_BUDGET
from reconciler.klaviyo.transport.sender import WaitCallback
from reconciler.values import ImportSubmission, Subscription

READ_CONCURRENCY = 64  # pages of one member read in flight at most (75/s at up to ~0.7 s each)


class KlaviyoClient:
    """One account's API, as an async context manager.

    Every request is paced to the endpoint's rate tier (shared by every client opened with the
    same ``pacers`` registry for the same account, or by the ``pacer`` given; a client given
    neither paces alone), retried on 429/503/504/524 and connection errors, and never retried
    on 502 or another 4xx; a create is never re-sent before it was looked up.

    ``time_scale`` is the server's time scale (1.0 for Klaviyo; the sandbox's ``--time-scale``
    against the sandbox): every duration the server reports is divided by it. ``max_wait`` caps
    one wait before a retry and ``wait_budget`` all the waits of one request (server seconds);
    ``on_wait`` hears about every long wait.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        time_scale: float = 1.0,
        max_concurrency: int = 16,
        read_concurrency: int = READ_CONCURRENCY,
        max_retries: int = 8,
        pacer: Pacer | None = None,
        pacers: PacerRegistry | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
        wait_budget: float = DEFAULT_WAIT_BUDGET,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self._key = ApiKey(api_key)
        self.base_url = check_base_url(base_url)
        check_time_scale(time_scale)
        if max_concurrency < 1 or read_concurrency < 2 or max_retries < 0:
            raise KlaviyoConfigError(
                "max_concurrency must be >= 1, read_concurrency >= 2 and max_retries >= 0"
            )
        if not max_wait > 0 or not wait_budget > 0:
            raise KlaviyoConfigError("max_wait and wait_budget must be > 0 seconds")
        self.time_scale = float(time_scale)
        self.max_concurrency = max_concurrency
        self.read_concurrency = read_concurrency
        self.max_retries = max_retries
        self.stats = ClientStats()
        self._pacers = pacers if pacers is not None else PacerRegistry()
        self._pacer = pacer or self._pacers.pacer(self.base_url, self._key.fingerprint, time_scale)
        self._pacer_per_account = pacer is None  # re-keyed by account once verify_key knows it
        connections = max(max_concurrency, read_concurrency)
        self._http = build_http_client(self.base_url, self._key, transport, connections)
        policy = RetryPolicy(
            max_retries=max_retries,
            time_scale=self.time_scale,
            max_wait=max_wait,
            wait_budget=wait_budget,
        )
        self._sender = Sender(self._http, self._pacer, policy, self.stats, max_concurrency, on_wait)
        # member reads keep as many pages in flight as the latency needs (their own slots)
        self._reads = Sender(self._http, self._pacer, policy, self.stats, read_concurrency, on_wait)
        self._jobs = Jobs(self._sender, self.base_url, self.time_scale)

    def interrupt_on(self, event: asyncio.Event | None) -> None:
        """From now on, setting ``event`` ends every wait of this client at once (the request
        waited for is not sent: :class:`~reconciler.klaviyo.errors.WaitInterrupted`)."""
        self._sender.interrupt = event
        self._reads.interrupt = event

    def __repr__(self) -> str:
        return f"KlaviyoClient(base_url={self.base_url!r}, key={self._key!r})"

    async def __aenter__(self) -> KlaviyoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    async def verify_key(self) -> Account:
        """The account behind the key (GET /api/accounts); AuthError if the key is refused."""
        if self._pacer_per_account:
            # the account is not known yet: clients of every key pace this call together (two
            # keys of one account would otherwise spend its 1-per-second budget at once)
            unknown = self._pacers.pacer(self.base_url, "account:unknown", self.time_scale)
            self._sender.use_pacer(unknown)
        try:
            body = await self._get(ep.GET_ACCOUNTS, ep.GET_ACCOUNTS.path())
        finally:
            self._sender.use_pacer(self._pacer)
        accounts = data_list(body)
        if not accounts:
            raise KlaviyoError("GET /api/accounts returned no account for this key")
        contact = attributes(accounts[0]).get("contact_information") or {}
        name = contact.get("organization_name") if isinstance(contact, dict) else None
        account = Account(id=str(accounts[0].get("id")), name=str(name or ""))
        if self._pacer_per_account:
            # every key of an account shares its rate limits: so do clients of those keys
            owner = f"account:{account.id}"
            self._pacer = self._pacers.pacer(self.base_url, owner, self.time_scale)
            self._sender.use_pacer(self._pacer)
            self._reads.use_pacer(self._pacer)
        return account

    async def get_list(self, list_id: str, *, with_count: bool = False) -> KlaviyoList:
        """A list's id and name, and its ``profile_count`` if asked (a stricter rate tier)."""
        endpoint = ep.GET_LIST_COUNT if with_count else ep.GET_LIST
        params = {"additional-fields[list]": "profile_count"} if with_count else None
        body = await self._get(endpoint, endpoint.path(id=list_id), params)
        return list_from(data_object(body))

    async def get_lists(self, *, with_counts: bool = True) -> list[AccountList]:
        """Every list of the account, oldest first, with each one's ``profile_count`` if asked
        (one GET /api/lists/{id} per list, in the stricter profile_count tier)."""
        lists = await read_lists(self._sender, self.base_url)
        if not with_counts:
            return lists
        counted = await asyncio.gather(*(self.get_list(a.id, with_count=True) for a in lists))
        return [
            replace(a, profile_count=c.profile_count) for a, c in zip(lists, counted, strict=True)
        ]

    async def create_list(self, name: str) -> KlaviyoList:
        """Create a list, once: a create whose answer was lost (dropped, or 503/504/524) is
        looked up by name and creation time before it is sent again."""
        return await ListCreator(self._sender, self.max_retries + 1).create(name)

    async def read_members(
        self,
        list_id: str,
        *,
        joined_after: dt.datetime | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> list[Member]:
        """Every member with an email (or those who joined after ``joined_after``), read
        concurrently, each profile id once. For small reads: a large one is better read with
        :meth:`read_member_columns`."""
        return as_members(await self._read(list_id, joined_after, on_page))

    async def read_member_columns(
        self,
        list_id: str,
        *,
        joined_after: dt.datetime | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> ListMembers:
        """Like :meth:`read_members`, as Arrow columns (each profile id and each email once: a
        later row for an email wins), with the members without an email counted."""
        return unique_emails(await self._read(list_id, joined_after, on_page))

    async def _read(
        self,
        list_id: str,
        joined_after: dt.datetime | None,
        on_page: Callable[[int], None] | None,
    ) -> ListMembers:
        after = to_micros(joined_after) if joined_after is not None else None
        reader = MemberReader(
            self._reads,
            self.base_url,
            list_id,
            joined_after=after,
            on_page=on_page,
            workers=self.read_concurrency,
            burst_rate=ep.GET_LIST_PROFILES.rate.burst * self.time_scale,
        )
        return await reader.read()

    async def find_profiles(self, emails: Sequence[str]) -> dict[str, str]:
        """Profile ids of the given emails that exist (normalised email -> id)."""
        wanted = sorted({e for e in (normalise_email(x) for x in emails) if e is not None})
        batches = [
            wanted[i : i + EMAILS_PER_LOOKUP] for i in range(0, len(wanted), EMAILS_PER_LOOKUP)
        ]
        found: dict[str, str] = {}
        for part in await asyncio.gather(*(self._lookup(batch) for batch in batches)):
            found.update(part)
        return found

    async def _lookup(self, emails: list[str]) -> dict[str, str]:
        path = ep.GET_PROFILES.path()
        params: dict[str, str | int] = {
            "filter": f"any(email,{quoted_list(emails)})",
            "fields[profile]": "email",
            "page[size]": EMAILS_PER_LOOKUP,
        }
        found: dict[str, str] = {}
        url: httpx.URL | None = None
        while True:
            response = await self._sender.request(ep.GET_PROFILES, path, params=params, url=url)
            body = document(response, "GET", path)
            for item in data_list(body):
                email = attributes(item).get("email")
                if isinstance(email, str):
                    found[email.strip().lower()] = str(item.get("id"))
            url = next_link(body, self.base_url)
            if url is None:
                return found

    async def bulk_import(self, list_id: str, profiles: Sequence[ProfileInput]) -> ImportSubmission:
        """Submit import jobs adding ``profiles`` to the list: the job ids, and the profiles
        refused locally or named by a 400."""
        importer = BulkImporter(self._sender, self._jobs, list_id, self.max_retries + 1)
        return await importer.run(profiles)

    async def read_consents(self, emails: Sequence[str]) -> Consents:
        """Marketing consent (email, sms) of those of ``emails`` that have a profile."""
        return await read_consents(self._sender, self.base_url, emails)

    async def subscribe(
        self, list_id: str, items: Sequence[Subscription], *, historical: bool = False
    ) -> int:
        """Subscribe ``items`` (1,000 a job) and add them to the list; how many were sent.
        This lifts suppressions: only call it for profiles whose consent is newer."""
        return await subscribe(self._sender, list_id, items, historical=historical)

    async def wait_for_jobs(
        self,
        job_ids: Sequence[str],
        *,
        poll_interval: float = 1.0,
        on_progress: Callable[[JobStatus], None] | None = None,
        timeout: float | None = None,
    ) -> list[JobResult]:
        """Poll until every job is complete or cancelled (``poll_interval`` is scaled);
        collect the per-profile import errors of jobs that had failures."""
        return await self._jobs.wait(job_ids, poll_interval, on_progress, timeout)

    async def running_jobs(self, list_id: str) -> list[str]:
        """Ids of queued or processing import jobs that add to ``list_id``."""
        return await self._jobs.running_for_list(list_id)

    async def remove_members(
        self,
        list_id: str,
        profile_ids: Sequence[str],
        on_chunk: Callable[[int], None] | None = None,
    ) -> int:
        """Remove members by profile id, 1,000 per call, calls concurrent (M tier). An id
        Klaviyo no longer knows (the profile was merged into another, or deleted, since the
        list was read) is skipped, not an error: that member has left the list already."""
        return await self._relationships(ep.REMOVE_FROM_LIST, list_id, profile_ids, on_chunk)

    async def add_members(self, list_id: str, profile_ids: Sequence[str]) -> int:
        """Add existing profiles to the list by id, 1,000 per call."""
        return await self._relationships(ep.ADD_TO_LIST, list_id, profile_ids, None)

    async def _relationships(
        self,
        endpoint: ep.Endpoint,
        list_id: str,
        profile_ids: Sequence[str],
        on_chunk: Callable[[int], None] | None,
    ) -> int:
        ids = list(dict.fromkeys(profile_ids))
        path = endpoint.path(id=list_id)

        async def send(chunk: list[str]) -> int:
            sent = chunk
            while sent:
                payload = {"data": [{"type": "profile", "id": pid} for pid in sent]}
                try:
                    await self._sender.request(endpoint, path, body=encode(payload))
                    break
                except ValidationError as exc:
                    # profiles merged away or deleted since the list was read: their ids are
                    # gone (a merged address lives on under the other profile's id); the 400
                    # names each by pointer, the rest of the chunk is sent again
                    vanished = _named_ids(exc, sent)
                    if not vanished or endpoint is not ep.REMOVE_FROM_LIST:
                        raise
                    sent = [pid for pid in sent if pid not in vanished]
            if on_chunk is not None:
                on_chunk(len(chunk))
            return len(chunk)

        chunks = [ids[i : i + MEMBER_CHUNK] for i in range(0, len(ids), MEMBER_CHUNK)]
        return sum(await asyncio.gather(*(send(chunk) for chunk in chunks)))

    async def _get(
        self, endpoint: ep.Endpoint, path: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self._sender.request(endpoint, path, params=params)
        return document(response, "GET", path)


_ID_POINTER = re.compile(r"^/data/(\d+)/id$")


def _named_ids(error: ValidationError, sent: Sequence[str]) -> set[str]:
    """The profile ids of ``sent`` that a 400 names by ``source.pointer`` (``/data/<i>/id``)."""
    named: set[str] = set()
    for detail in error.errors:
        found = _ID_POINTER.match(detail.pointer or "")
        if found and int(found.group(1)) < len(sent):
            named.add(sent[int(found.group(1))])
    return named
