"""Checking a large column for repeats (every full list read does, for ids and emails) holds
the keys and one byte a value, not a sorted layout: that held 36 bytes a value, 365 MB for ten
million, at the peak of a first plan."""

from __future__ import annotations

import json
import subprocess
import sys

VALUES = 3_000_000
CHILD = """
import json, sys
from pathlib import Path
import pyarrow as pa
from reconciler import duck, lookup

def kb(name):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])

n = int(sys.argv[1])
step = 200_000
chunks = [
    pa.array([f"member{i}@example{i % 97}.com" for i in range(lo, min(lo + step, n))])
    for lo in range(0, n, step)
]
column = pa.chunked_array(chunks)
with duck.connect():  # loaded, as in a list read (the segment read used it)
    pass
pa.default_memory_pool().release_unused()
Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
before = kb("VmRSS")
unique = lookup.distinct(column)
repeated = lookup.distinct(pa.chunked_array([*chunks, pa.array(["member7@example7.com"])]))
print(json.dumps({"unique": unique, "repeated": repeated, "grew_kb": kb("VmHWM") - before}))
"""


def test_a_repeat_check_holds_the_keys_and_a_byte_a_value() -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(VALUES)], capture_output=True, text=True, check=True
    )
    found = json.loads(run.stdout)
    assert found["unique"] is True and found["repeated"] is False
    keys = 8 * VALUES
    # the keys, a byte a value, one partition's count, DuckDB's working memory (~25 MB): 92 MB
    # here; the sorted layout held 150 MB
    assert found["grew_kb"] * 1e3 < 5 * keys, (found, keys)
