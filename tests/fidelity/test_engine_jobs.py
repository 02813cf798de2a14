"""Import jobs the engine waits for (issue 18, issue 17 item 8), over a real socket:

- a pending job the destination no longer knows (expired: 404) is dropped from the state with
  a note naming it, never turned into "list ... does not exist";
- waiting for jobs another integration started is bounded by ``--job-timeout``: past it that
  export fails with the job ids and a hint, the other exports are planned.

On main before this change: the first plan failed with "list Exp001 does not exist" (on every
later run too, even with --refresh); the second had no --job-timeout and waited for the other
integration's job without bound.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.conftest import TIME_SCALE
from tests.e2e.workspace import emails
from tests.fidelity.engine_support import api, fidelity_harness, sql


def by_name(body: dict[str, object], name: str) -> dict[str, object]:
    return next(e for e in body["exports"] if e["name"] == name)  # type: ignore[attr-defined, index]


def test_an_expired_pending_job_is_dropped_with_a_note_naming_it(tmp_path: Path) -> None:
    with fidelity_harness(tmp_path, job_ttl=30.0) as harness:  # jobs readable for 0.5 s
        ws = harness.workspace
        harness.server.admin.seed("Exp001", emails("old", 3))
        ws.write_members("vip", emails("old", 3) + emails("new", 5))
        ws.add_export("vip", "vip", "Exp001", fields={"email": "email"})  # membership only
        ws.write_config()
        assert harness.run("apply", "--yes").exit_code == 0
        jobs = sql(harness, "SELECT job_id FROM reconciler_jobs")
        assert jobs, "the apply recorded its import job(s)"
        job_id = jobs[0][0]
        # as if that apply had been interrupted while waiting: the job is still pending
        sql(harness, "UPDATE reconciler_jobs SET finished_at = NULL")
        time.sleep(31.0 / TIME_SCALE)

        code, body = harness.plan_json("--detailed-exitcode")
        entry = by_name(body, "vip")
        assert entry["reasons"] == [], entry["reasons"]  # main: "list Exp001 does not exist"
        assert code == 0 and (entry["add"], entry["remove"]) == (0, 0)
        notes = entry["notes"]
        assert isinstance(notes, list)
        assert any(job_id in note and "no longer known" in note for note in notes)
        assert sql(harness, "SELECT job_id FROM reconciler_jobs WHERE finished_at IS NULL") == []

        code, body = harness.plan_json("--detailed-exitcode", "--refresh")
        entry = by_name(body, "vip")
        assert code == 0 and entry["reasons"] == []
        assert not any("no longer known" in note for note in entry["notes"])  # type: ignore[attr-defined]


def test_waiting_for_another_integrations_job_is_bounded(tmp_path: Path) -> None:
    # 10 profiles per virtual second: the other integration's 2,000 take 200 s (3.3 s real)
    with fidelity_harness(tmp_path, import_rate=10.0) as harness:
        ws = harness.workspace
        harness.server.admin.seed("Busy01", emails("b", 2))
        harness.server.admin.seed("Calm01", emails("c", 2))
        profiles = [{"type": "profile", "attributes": {"email": e}} for e in emails("other", 2_000)]
        body = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {"profiles": {"data": profiles}},
                "relationships": {"lists": {"data": [{"type": "list", "id": "Busy01"}]}},
            }
        }
        created = api(harness, "POST", "/api/profile-bulk-import-jobs", json=body)
        assert created.status_code == 202, created.text
        foreign = created.json()["data"]["id"]
        ws.write_members("busy", emails("b", 2))
        ws.write_members("calm", emails("c", 2) + emails("c2", 1))
        ws.add_export("busy", "busy", "Busy01")
        ws.add_export("calm", "calm", "Calm01")
        ws.write_config()

        started = time.monotonic()
        result = harness.run("plan", "--format", "json", "--job-timeout", "20")
        elapsed = time.monotonic() - started
        body_out = json.loads(result.stdout)
        busy, calm = by_name(body_out, "busy"), by_name(body_out, "calm")
        assert elapsed < 150.0 / TIME_SCALE  # not the 200 s the job takes
        reasons = " ".join(busy["reasons"])  # type: ignore[arg-type]
        assert busy["blocked"] and foreign in reasons and "--job-timeout" in reasons
        assert calm["reasons"] == [] and calm["add"] == 1
