"""The run's import jobs of one account, in order, and the pace the account processes them at:
an export whose job waits behind other exports' jobs (Klaviyo works through an account's jobs
one after another) polls when the work ahead of it should be done, at a pace measured by
whichever export saw a job processing (issue 16: many exports over a few accounts)."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.klaviyo import KlaviyoClient, ProfileInput
from reconciler.klaviyo.jobqueue import AccountJobs
from reconciler.klaviyo.jobs import _Pace
from reconciler.klaviyo.models import JobStatus
from reconciler.klaviyo.pacing import PacerRegistry
from tests.klaviyo.support import BASE, emails, sandbox_app


def status(job: str, done: int, state: str = "processing", total: int = 10_000) -> JobStatus:
    return JobStatus(job, state, total, done, 0)


def queue_of_three(at: float = 100.0) -> AccountJobs:
    queue = AccountJobs()
    for job, total in (("j1", 10_000), ("j2", 10_000), ("j3", 5_000)):
        queue.submitted(job, total)
    queue.observe(status("j1", 2_000), now=at)
    queue.observe(status("j1", 4_000), now=at + 0.2)  # 10,000 profiles a second
    return queue


def test_a_queued_job_can_end_no_earlier_than_the_work_ahead_of_it() -> None:
    queue = queue_of_three()
    assert queue.rate == pytest.approx(10_000)
    # j1's 6,000 left, j2's 10,000, then j3's own 5,000: 2.1 s, not j3's own 0.5 s
    assert queue.seconds_left(status("j3", 0, "queued", 5_000), now=100.2) == pytest.approx(2.1)
    assert queue.seconds_left(status("j3", 0, "queued", 5_000), now=101.2) == pytest.approx(1.1)
    assert queue.seconds_left(status("j1", 4_000), now=100.2) == pytest.approx(0.6)


def test_jobs_the_run_did_not_submit_count_their_own_work_only() -> None:
    queue = queue_of_three()
    assert queue.seconds_left(status("other", 0, "queued"), now=100.2) == pytest.approx(1.0)
    assert AccountJobs().seconds_left(status("j1", 0, "queued"), now=0.0) is None  # no pace


def test_a_waiter_uses_the_pace_another_export_measured() -> None:
    queue = queue_of_three(time.monotonic() - 0.2)  # the pace, measured just now
    late = _Pace(1.0, queue)  # pauses between 0.1 and 10 s
    pause = late.pause(status("j3", 0, "queued", 5_000))  # first poll: no pace of its own
    assert 1.0 < pause <= 10  # the work ahead, never the blind 0.1 s
    assert _Pace(1.0).pause(status("j3", 0, "queued", 5_000)) == pytest.approx(0.1)


async def test_clients_of_one_account_queue_their_jobs_together() -> None:
    app = sandbox_app(api_keys=("pk_team_a,pk_team_b",))
    run = PacerRegistry()
    transport = httpx.ASGITransport(app=app)
    clients = [
        KlaviyoClient(key, base_url=BASE, transport=transport, time_scale=60.0, pacers=run)
        for key in ("pk_team_a", "pk_team_b")
    ]
    async with clients[0], clients[1]:
        for client in clients:
            await client.verify_key()
        queue = clients[0].pacer.jobs
        assert clients[1].pacer.jobs is queue
        target = (await clients[0].create_list("together")).id
        first = await clients[0].bulk_import(target, [ProfileInput(e) for e in emails("a", 3)])
        second = await clients[1].bulk_import(target, [ProfileInput(e) for e in emails("b", 3)])
        await clients[1].wait_for_jobs([*first.job_ids, *second.job_ids])
    assert queue.submitted_jobs() == (*first.job_ids, *second.job_ids)
