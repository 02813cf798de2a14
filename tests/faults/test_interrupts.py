"""SIGKILL, SIGINT and SIGTERM in the middle of an apply (a real child process), and a stop
requested between slices: the next run always converges without importing anyone twice."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from reconciler.engine.applying import run_apply
from reconciler.engine.executor import Slicing
from reconciler.engine.options import RunOptions
from reconciler.engine.stopping import ApplyInterrupted, StopSignal
from reconciler.state import open_state
from tests.e2e.conftest import TIME_SCALE
from tests.e2e.workspace import KEY_ENV, TEST_KEY
from tests.faults.conftest import LIST, FaultRig, bulk_jobs, start_apply, wait_until

pytestmark = pytest.mark.faults


def test_sigkill_mid_apply_then_rerun_converges(rig: FaultRig) -> None:
    rig.setup(keep=500, drop=300, new=3_000)
    child = start_apply(rig)
    wait_until(lambda: bulk_jobs(rig.server) >= 1, child.proc)
    child.proc.kill()
    code, out, err = child.finish()
    assert code == -signal.SIGKILL
    killed = rig.runs()
    assert [r["outcome"] for r in killed] == ["running"]  # died before it could finish the run
    assert killed[0]["finished_at"] is None
    shown = rig.harness.run("runs", "--state", str(rig.harness.state))
    assert "no process" in shown.stdout and "killed" in shown.stdout, shown.output
    assert rig.server.admin.members(LIST) != rig.desired
    again = rig.apply()
    assert again.exit_code == 0, again.output
    assert f"Run {killed[0]['run_id'][:8]} had no process left" in again.stdout
    runs = rig.runs()  # the killed run's process is gone: journalled interrupted by the next
    assert [r["outcome"] for r in runs] == ["interrupted", "succeeded"]
    assert runs[0]["finished_at"] is not None
    rig.outputs += [("killed stdout", out), ("killed stderr", err)]
    # the job the killed run submitted was waited for, not submitted again
    assert bulk_jobs(rig.server) == 1
    rig.assert_converged()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_first_signal_stops_records_interrupted_and_exits_128_plus_n(
    rig: FaultRig, signum: signal.Signals
) -> None:
    rig.setup(keep=500, drop=300, new=3_000)
    child = start_apply(rig)
    # the signal comes once the job is submitted and the removal is on its way
    removing = "DELETE /api/lists/{id}/relationships/profiles"
    wait_until(lambda: bulk_jobs(rig.server) >= 1 and requests_to(rig, removing) >= 1, child.proc)
    child.proc.send_signal(signum)
    code, out, err = child.finish(timeout=20)
    assert code == 128 + signum, err
    assert f"apply interrupted by {signum.name}" in err
    assert "recorded as pending" in err and "run the same apply again" in err
    assert "Traceback" not in out + err
    [run] = rig.runs()
    assert run["outcome"] == "interrupted" and run["finished_at"] is not None
    [record] = run["exports"]
    assert record["outcome"] == "interrupted" and record["removed"] == 300
    assert len(record["job_ids"]) == 1
    rig.outputs += [("interrupted stdout", out), ("interrupted stderr", err)]
    again = rig.apply()
    assert again.exit_code == 0, again.output
    assert bulk_jobs(rig.server) == 1  # the pending job was awaited, never resubmitted
    rig.assert_converged()


def requests_to(rig: FaultRig, endpoint: str) -> int:
    return int(rig.server.admin.stats()["requests"].get(endpoint, 0))


def test_second_signal_aborts_at_once(rig: FaultRig) -> None:
    rig.setup(keep=500, drop=300, new=3_000)
    child = start_apply(rig)
    wait_until(lambda: requests_to(rig, "GET /api/lists/{id}/profiles") >= 1, child.proc)
    rig.server.admin.faults(latency_ms=2_000)  # from now on every request takes 2 s
    wait_until(
        lambda: requests_to(rig, "DELETE /api/lists/{id}/relationships/profiles") >= 1, child.proc
    )
    child.proc.send_signal(signal.SIGINT)  # the removal in flight would hold this stop 2 s
    time.sleep(0.2)
    started = time.monotonic()
    child.proc.send_signal(signal.SIGINT)
    code, out, err = child.finish(timeout=20)
    assert time.monotonic() - started < 1.5
    rig.server.admin.faults()
    assert code == 130, err
    assert "aborted at once on a second signal" in err
    assert "Traceback" not in out + err
    [run] = rig.runs()
    assert run["outcome"] == "interrupted" and run["exports"] == []
    rig.outputs += [("aborted stdout", out), ("aborted stderr", err)]
    assert rig.apply().exit_code == 0
    rig.assert_converged()


def test_signal_while_planning_aborts_at_once_and_sends_nothing(rig: FaultRig) -> None:
    rig.setup(keep=500, drop=300, new=3_000)
    # every answer slow from the start: the signal comes while a member page is in flight (set
    # once the read had begun, a fast read of 800 members could end first and the apply send)
    rig.server.admin.faults(latency_ms=2_000)
    child = start_apply(rig)
    wait_until(lambda: requests_to(rig, "GET /api/lists/{id}/profiles") >= 1, child.proc)
    started = time.monotonic()
    child.proc.send_signal(signal.SIGTERM)
    code, out, err = child.finish(timeout=20)
    assert time.monotonic() - started < 1.5
    rig.server.admin.faults()
    assert code == 143, err
    assert "interrupted by SIGTERM: stopped before any change was sent" in err
    assert "Traceback" not in out + err
    [run] = rig.runs()
    assert run["outcome"] == "interrupted" and run["exports"] == []
    assert rig.server.admin.members(LIST) == rig.initial
    assert bulk_jobs(rig.server) == 0
    rig.outputs += [("planning stdout", out), ("planning stderr", err)]
    assert rig.apply().exit_code == 0
    rig.assert_converged()


def test_stop_is_honoured_between_slices(rig: FaultRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, with slices of 300 profiles: a stop after the first job leaves the rest."""
    rig.setup(keep=200, drop=0, new=3_000)
    monkeypatch.setenv(KEY_ENV, TEST_KEY)
    h = rig.harness
    options = RunOptions(
        config_dir=h.workspace.config_dir,
        base_url=h.server.base_url,
        time_scale=TIME_SCALE,
        actor="fault-suite",
    )
    rig.server.admin.faults(latency_ms=150)  # each job submission takes a while
    stop = StopSignal()

    def stop_after_first_job() -> None:
        deadline = time.monotonic() + 30
        while bulk_jobs(rig.server) < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        stop.request(signal.SIGTERM)

    watcher = threading.Thread(target=stop_after_first_job, daemon=True)
    watcher.start()
    with (
        open_state(str(h.state)) as state,
        pytest.raises(ApplyInterrupted) as caught,
    ):
        run_apply(options, state, stop=stop, slicing=Slicing(add=300, remove=300))
    watcher.join()
    rig.server.admin.faults()
    assert caught.value.exit_code == 143
    submitted = bulk_jobs(rig.server)
    # ten slices were planned; the stop came after the first job: besides the slices already
    # on the wire (two at a time: one is encoded while the other is sent), none was started
    assert 1 <= submitted <= 4 < 10
    assert "stopped before sending further batches" in str(caught.value)
    rig.outputs.append(("interruption message", str(caught.value)))
    assert rig.apply().exit_code == 0
    assert bulk_jobs(rig.server) == submitted + 1  # the rest, in one job of the default slice
    rig.assert_converged()
