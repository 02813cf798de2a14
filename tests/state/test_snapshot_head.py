"""Reading a membership snapshot's header does not load the snapshot: SQLite's ``substr`` on a
blob loads all of it first (628 MB and 7.8 s for ten million members, at every plan)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from reconciler.state import open_state
from reconciler.state.columnar import MemberSnapshot

MEMBERS = 600_000
CHILD = """
import json, sys
from pathlib import Path
from reconciler.state import open_state

def kb(name):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])

with open_state(sys.argv[1]) as state:
    before = kb("VmRSS")
    ids = state.cache.stored_column("acct", "L1", "profile_id")
    print(json.dumps({"count": ids.count if ids else None, "grew_kb": kb("VmHWM") - before}))
"""


def test_the_header_is_read_without_the_snapshot(tmp_path: Path) -> None:
    url = str(tmp_path / "state.db")
    pad = "x" * 150  # long emails: a snapshot of about 100 MB
    emails = pa.array([f"member{i}.{pad}@example.com" for i in range(MEMBERS)], pa.string())
    ids = pa.array([f"01P{i:023d}" for i in range(MEMBERS)], pa.string())
    joined = pa.array(range(MEMBERS), pa.int64())
    with open_state(url) as state:
        state.cache.save_columns("acct", "L1", MemberSnapshot(emails, ids, joined))
    size_mb = (emails.nbytes + ids.nbytes) / 1e6
    run = subprocess.run(
        [sys.executable, "-c", CHILD, url], capture_output=True, text=True, check=True
    )
    found = json.loads(run.stdout)
    assert found["count"] == MEMBERS
    assert found["grew_kb"] / 1e3 < size_mb / 5, (found, size_mb)
