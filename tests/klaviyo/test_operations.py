"""Every client operation against the in-process sandbox; every body checked against its slice."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from urllib.parse import parse_qs

import httpx
import pytest

from reconciler.klaviyo import KlaviyoClient, PacerRegistry, ProfileInput
from reconciler.klaviyo.errors import NotFoundError
from reconciler.klaviyo.transport.http import REVISION
from tests.klaviyo.support import BASE, KEY, admin_call, client_for, emails, sandbox_app, seed


async def test_headers_account_and_list() -> None:
    app = sandbox_app()
    client, recorder = client_for(app)
    async with client:
        account = await client.verify_key()
        created = await client.create_list("VIP customers")
        fetched = await client.get_list(created.id)
        counted = await client.get_list(created.id, with_count=True)
    assert account.id and account.name
    assert (fetched.id, fetched.name, fetched.profile_count) == (created.id, "VIP customers", None)
    assert counted.profile_count == 0
    headers = recorder.sent[0].headers
    assert headers["authorization"] == f"Klaviyo-API-Key {KEY}"
    assert headers["revision"] == REVISION == "2026-07-15"
    assert headers["accept"] == "application/vnd.api+json"
    assert recorder.sent[1].headers["content-type"] == "application/vnd.api+json"
    assert "profile_count" in recorder.sent[-1].query
    assert recorder.validate_bodies() == 1
    assert client.stats.for_endpoint("GET /api/lists/{id} [profile_count]").requests == 1


async def test_unknown_list_is_not_found_and_not_retried() -> None:
    client, recorder = client_for(sandbox_app())
    async with client:
        with pytest.raises(NotFoundError) as caught:
            await client.get_list("Zz9Zz9")
    assert caught.value.status == 404 and caught.value.path == "/api/lists/Zz9Zz9"
    assert len(recorder.sent) == 1


async def test_bulk_import_then_full_and_incremental_reads() -> None:
    app = sandbox_app()
    client, recorder = client_for(app)
    pages: list[int] = []
    async with client:
        target = await client.create_list("import target")
        first = [ProfileInput(e.upper(), {"first_name": "A"}) for e in emails("a", 1_500)]
        submitted = await client.bulk_import(target.id, [*first, ProfileInput("broken@")])
        assert [f.email for f in submitted.rejected] == ["broken@"]
        results = await client.wait_for_jobs(submitted.job_ids)
        assert [(r.status, r.completed, r.failed) for r in results] == [("complete", 1_500, 0)]
        members = await client.read_members(target.id, on_page=pages.append)
        assert {m.email for m in members} == set(emails("a", 1_500))
        assert sum(pages) == 1_500
        cutoff = max(m.joined_at for m in members)
        more = await client.bulk_import(target.id, [ProfileInput(e) for e in emails("b", 250)])
        await client.wait_for_jobs(more.job_ids)
        newer = await client.read_members(target.id, joined_after=cutoff)
        assert {m.email for m in newer} == set(emails("b", 250))
        assert all(m.joined_at > cutoff for m in newer)
        everyone = await client.read_members(target.id)
    assert len({m.profile_id for m in everyone}) == 1_750
    assert recorder.validate_bodies() == 3
    member_gets = [s for s in recorder.sent if s.path.endswith("/profiles")]
    assert all(parse_qs(s.query).get("page[size]", ["100"])[0] in ("1", "100") for s in member_gets)


async def test_full_read_splits_join_time_ranges_and_reads_them_concurrently() -> None:
    app = sandbox_app()
    await seed(app, "Rng001", emails("m", 4_000), batches=40)
    client, recorder = client_for(app, read_concurrency=8)
    async with client:
        members = await client.read_members("Rng001")
    assert len(members) == 4_000
    assert {m.email for m in members} == set(emails("m", 4_000))
    filters = {
        parse_qs(s.query)["filter"][0]
        for s in recorder.sent
        if "filter" in parse_qs(s.query) and "greater-or-equal" in parse_qs(s.query)["filter"][0]
    }
    assert len(filters) >= 4  # several ranges, each with its own cursor
    pages = client.stats.for_endpoint("GET /api/lists/{id}/profiles").requests
    assert pages <= 40 + 2 + 16  # 40 full pages, the edges, a few range starts/steals


async def test_find_add_and_remove_members_in_chunks() -> None:
    app = sandbox_app()
    addresses = emails("p", 2_300)
    await seed(app, "Src001", addresses)
    await seed(app, "Dst001", addresses[:5])
    client, recorder = client_for(app)
    chunks: list[int] = []
    async with client:
        found = await client.find_profiles([a.upper() for a in addresses] + ["ghost@example.com"])
        assert set(found) == set(addresses)
        added = await client.add_members("Dst001", list(found.values()))
        removed = await client.remove_members(
            "Dst001", [found[a] for a in addresses[:2_100]], on_chunk=chunks.append
        )
        remaining = await client.get_list("Dst001", with_count=True)
    assert added == 2_300
    assert removed == 2_100 and sorted(chunks) == [100, 1_000, 1_000]
    assert remaining.profile_count == 200
    assert (await admin_call(app, "GET", "lists/Dst001/members"))["count"] == 200
    assert recorder.validate_bodies() == 3 + 3
    sizes = [len(s.json()["data"]) for s in recorder.with_body()]
    assert max(sizes) == 1_000


async def test_import_errors_are_collected_per_profile() -> None:
    client, _ = client_for(sandbox_app())
    progress: list[str] = []
    async with client:
        target = await client.create_list("phones")
        profiles = [
            ProfileInput("good@example.com", {"phone_number": "+15005550006"}),
            ProfileInput("bad.phone@example.com", {"phone_number": "12-34"}),
        ]
        results = await client.wait_for_jobs(
            (await client.bulk_import(target.id, profiles)).job_ids,
            on_progress=lambda s: progress.append(s.status),
        )
    (result,) = results
    assert (result.total, result.completed, result.failed) == (2, 1, 1)
    assert [f.email for f in result.errors] == ["bad.phone@example.com"]
    assert "E.164" in result.errors[0].reason
    assert progress[-1] == "complete"


async def test_running_jobs_lists_only_unfinished_jobs_of_that_list() -> None:
    client, _ = client_for(sandbox_app(import_rate=20.0))
    async with client:
        one = await client.create_list("one")
        two = await client.create_list("two")
        slow = await client.bulk_import(one.id, [ProfileInput(e) for e in emails("s", 300)])
        other = await client.bulk_import(two.id, [ProfileInput(e) for e in emails("t", 10)])
        running = await client.running_jobs(one.id)
        assert running == list(slow.job_ids)
        await client.wait_for_jobs([*slow.job_ids, *other.job_ids])
        assert await client.running_jobs(one.id) == []


async def test_waiting_polls_the_oldest_job_a_few_times_per_job() -> None:
    # 3 jobs of ~8,300 profiles at 2,000 profiles per virtual second: ~4 s of work each; the
    # poll interval is 0.5 s.
    client, _ = client_for(sandbox_app(import_rate=2_000.0))
    seen: list[tuple[str, str]] = []
    async with client:
        target = await client.create_list("paced")
        profiles = [ProfileInput(e) for e in emails("q", 25_000)]
        jobs = (await client.bulk_import(target.id, profiles)).job_ids
        results = await client.wait_for_jobs(
            jobs, on_progress=lambda s: seen.append((s.job_id, s.status))
        )
    assert len(jobs) == 3
    assert [r.status for r in results] == ["complete"] * 3
    assert sum(r.completed for r in results) == 25_000
    polls = client.stats.for_endpoint("GET /api/profile-bulk-import-jobs/{job_id}").requests
    assert polls == len(seen) <= 3 * 4  # every interval: ~8 per job
    # each job is polled only once the ones before it are finished
    order = list(dict.fromkeys(job for job, _ in seen))
    assert order == list(jobs)


async def test_wait_for_jobs_times_out_with_a_typed_error() -> None:
    from reconciler.klaviyo.errors import JobTimeoutError

    client, _ = client_for(sandbox_app(import_rate=1.0))
    async with client:
        target = await client.create_list("slow")
        submitted = await client.bulk_import(target.id, [ProfileInput(e) for e in emails("w", 500)])
        with pytest.raises(JobTimeoutError):
            await client.wait_for_jobs(submitted.job_ids, timeout=0.2)


async def test_members_without_join_filter_only_for_a_small_list() -> None:
    app = sandbox_app()
    await seed(app, "Small1", emails("x", 42))
    client, recorder = client_for(app)
    async with client:
        members = await client.read_members("Small1")
        newer = await client.read_members(
            "Small1", joined_after=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        )
    assert len(members) == 42 and newer == []
    assert len(recorder.sent) == 2  # one page each: no range splitting for a small list


async def test_keys_of_one_account_share_its_rate_limits() -> None:
    # Klaviyo counts limits per account, whatever the key: two clients with two keys of one
    # account must pace together (the run's registry gives them one pacer once verify_key
    # knows the account). GET /api/lists/{id} with profile_count allows 15 a minute.
    app = sandbox_app(api_keys=("pk_team_a,pk_team_b",))
    await seed(app, "Shr001", emails("s", 3))
    run = PacerRegistry()
    transport = httpx.ASGITransport(app=app)
    clients = [
        KlaviyoClient(key, base_url=BASE, transport=transport, time_scale=60.0, pacers=run)
        for key in ("pk_team_a", "pk_team_b")
    ]
    async with clients[0], clients[1]:
        accounts = [await c.verify_key() for c in clients]
        assert accounts[0].id == accounts[1].id
        counts = await asyncio.gather(
            *(c.get_list("Shr001", with_count=True) for c in clients for _ in range(10))
        )
    assert {found.profile_count for found in counts} == {3}
    endpoint = "GET /api/lists/{id} [profile_count]"
    assert [c.stats.for_endpoint(endpoint).throttled for c in clients] == [0, 0]
    assert sum(c.stats.for_endpoint(endpoint).requests for c in clients) == 20
    # not even the first calls, made before the clients know they share an account
    assert [c.stats.for_endpoint("GET /api/accounts").throttled for c in clients] == [0, 0]


def test_poll_pace_backs_off_while_a_job_makes_no_progress() -> None:
    from reconciler.klaviyo.jobs import _Pace
    from reconciler.klaviyo.models import JobStatus

    def status(done: int, state: str = "processing") -> JobStatus:
        return JobStatus("job-1", state, 1_000, done, 0)

    pace = _Pace(1.0)  # pauses between 0.1 and 10 s
    assert pace.pause(status(0, "queued")) == pytest.approx(0.1)  # nothing known: short
    assert pace.pause(status(0, "queued")) == pytest.approx(0.2)  # then doubling
    assert pace.pause(status(100)) == pytest.approx(0.2)  # progress, no pace yet
    time.sleep(0.01)
    measured = pace.pause(status(200))  # a pace: until the remaining 800 should be done
    assert 0.1 <= measured <= 10
    stalled = [pace.pause(status(200)) for _ in range(8)]
    assert stalled[0] == pytest.approx(min(10, 2 * measured))
    assert stalled[-1] == pytest.approx(10)  # capped
    assert all(b >= a for a, b in itertools.pairwise(stalled))
