"""Errors, latency, dropped connections and a failed import job: every scenario converges."""

from __future__ import annotations

import threading

import pytest

from tests.faults.conftest import LIST, FaultRig

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("retry_after", [True, False], ids=["retry-after", "no-retry-after"])
def test_ten_percent_429_500_503_converges(rig: FaultRig, retry_after: bool) -> None:
    rig.setup()
    rig.server.admin.faults(
        error_rate=0.10, statuses=[429, 500, 503], retry_after=retry_after, seed=7
    )
    codes = rig.apply_until_converged()
    assert rig.server.admin.stats()["faults_injected"] > 0
    assert rig.logs is not None and "retrying" in rig.logs.text  # the scanned log has content
    runs = rig.runs()
    assert [r["outcome"] for r in runs][-1] == "succeeded"
    # a failed attempt (a 500 is never retried) is journalled as such, not as a success
    assert all((r["outcome"] == "succeeded") == (c == 0) for r, c in zip(runs, codes, strict=True))
    rig.assert_converged()


def test_latency_spikes_of_one_second(rig: FaultRig) -> None:
    rig.setup(keep=500, drop=200, new=500)
    spikes = threading.Event()

    def spike_now_and_then() -> None:
        while not spikes.wait(0.3):
            rig.server.admin.faults(latency_ms=1_000)
            if spikes.wait(1.0):
                break
            rig.server.admin.faults()

    thread = threading.Thread(target=spike_now_and_then, daemon=True)
    thread.start()
    try:
        result = rig.apply()
    finally:
        spikes.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "added 500, removed 200, failed 0" in result.stdout
    assert rig.runs()[-1]["outcome"] == "succeeded"
    rig.assert_converged()


def test_connections_dropped_mid_request(rig: FaultRig) -> None:
    rig.setup()
    rig.server.admin.faults(drop_rate=0.15, seed=11)
    rig.apply_until_converged()
    assert rig.server.admin.stats()["responses_dropped"] > 0
    # a dropped answer to a bulk import POST never makes the same profiles be sent twice
    rig.assert_converged()


def test_bulk_import_job_that_ends_failed_then_next_run_converges(rig: FaultRig) -> None:
    rig.setup(keep=500, drop=100, new=2_000)
    rig.server.admin.faults(fail_next_bulk_job=True)
    first = rig.apply()
    assert first.exit_code == 1
    assert "ended without completing" in first.stdout
    assert "Traceback" not in first.output
    after_first = rig.server.admin.members(LIST)
    assert after_first != rig.desired
    runs = rig.runs()
    assert runs[-1]["outcome"] == "failed"
    [record] = runs[-1]["exports"]
    assert record["outcome"] == "failed" and len(record["job_ids"]) == 1
    assert "ended without completing" in record["error"]
    second = rig.apply()
    assert second.exit_code == 0, second.output
    assert rig.runs()[-1]["outcome"] == "succeeded"
    # only the profiles the cancelled job never added are imported again
    rig.assert_converged(reimported=len(rig.desired - after_first))
