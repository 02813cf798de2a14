"""Profiles imported by jobs an interrupted run left pending are credited to the run that saw
them finish (issue 14): a real child process, a real SIGINT, the sandbox over a real socket."""

from __future__ import annotations

import signal

import pytest

from tests.faults.conftest import FaultRig, bulk_jobs, start_apply, wait_until

pytestmark = pytest.mark.faults

NEW = 6_000  # one job; at the rig's import rate it runs ~1.6 s, long enough to interrupt


def test_an_interrupted_runs_pending_imports_are_credited_to_the_next_apply(
    rig: FaultRig,
) -> None:
    rig.setup(keep=200, drop=0, new=NEW)
    child = start_apply(rig)
    wait_until(lambda: bulk_jobs(rig.server) >= 1, child.proc)
    child.proc.send_signal(signal.SIGINT)
    code, out, err = child.finish(timeout=20)
    assert code == 128 + signal.SIGINT, err
    rig.outputs += [("interrupted stdout", out), ("interrupted stderr", err)]
    [interrupted] = rig.runs()
    [first] = interrupted["exports"]
    assert first["outcome"] == "interrupted" and first["added"] == 0
    [job_id] = first["job_ids"]

    planned = rig.harness.run("plan")  # sees the job finish, leaves the credit to the apply
    assert planned.exit_code == 0, planned.output
    rig.outputs.append(("plan stdout", planned.stdout))
    assert "1 import job(s) an earlier run left pending finished, 6,000 profile(s)" in (
        planned.stdout
    )

    again = rig.apply()
    assert again.exit_code == 0, again.output
    _, crediting = rig.runs()
    [second] = crediting["exports"]
    assert second["added"] == NEW  # what the pending job imported, seen finished by this run
    assert f"added {NEW:,}" in again.stdout
    assert second["job_ids"] == [job_id]
    assert bulk_jobs(rig.server) == 1  # awaited, never resubmitted

    shown = rig.harness.run("runs", "--state", str(rig.harness.state), "show", crediting["run_id"])
    assert shown.exit_code == 0, shown.output
    rig.outputs.append(("runs show", shown.stdout))
    assert f"added {NEW:,}" in shown.stdout
    assert f"left pending by run {interrupted['run_id'][:8]}" in shown.stdout
    rig.assert_converged()
