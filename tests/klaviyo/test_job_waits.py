"""Waiting for bulk import jobs: a job the server no longer knows is "gone", not an error that
could pass for a missing list (issue 18, issue 17 item 8); a wait has a bound that names the
jobs still unfinished."""

from __future__ import annotations

import asyncio
import time

import pytest

from reconciler.klaviyo import ProfileInput
from reconciler.klaviyo.errors import JobTimeoutError
from tests.klaviyo.support import client_for, emails, sandbox_app

SCALE = 60.0


async def test_an_expired_job_is_reported_gone_and_the_others_are_still_waited_for() -> None:
    app = sandbox_app(SCALE, job_ttl=30.0)  # jobs can be read for 30 virtual seconds (0.5 s)
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        target = (await client.create_list("gone")).id
        old = await client.bulk_import(target, [ProfileInput(e) for e in emails("o", 5)])
        await client.wait_for_jobs(old.job_ids)
        await asyncio.sleep(31.0 / SCALE)
        new = await client.bulk_import(target, [ProfileInput(e) for e in emails("n", 5)])
        results = await client.wait_for_jobs([*old.job_ids, *new.job_ids])
    assert [(r.status, r.gone) for r in results] == [("gone", True), ("complete", False)]
    assert results[1].completed == 5 and results[0].errors == []


async def test_a_wait_past_its_timeout_names_the_jobs_still_running() -> None:
    app = sandbox_app(SCALE, import_rate=5.0)  # 1,000 profiles take 200 virtual seconds
    client, _ = client_for(app, time_scale=SCALE)
    async with client:
        target = (await client.create_list("slow")).id
        slow = await client.bulk_import(target, [ProfileInput(e) for e in emails("s", 1_000)])
        started = time.monotonic()
        with pytest.raises(JobTimeoutError) as caught:
            await client.wait_for_jobs(slow.job_ids, timeout=30.0)  # server seconds
        elapsed = time.monotonic() - started
    assert 30.0 / SCALE <= elapsed < 30.0 / SCALE + 1.0
    assert caught.value.job_ids == tuple(slow.job_ids)
    assert slow.job_ids[0] in str(caught.value) and "--job-timeout" in caught.value.hint
