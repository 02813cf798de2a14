"""Rows taken chunk by chunk equal Arrow's own take, and never copy the column."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from reconciler.chunktake import take

COLUMN = pa.chunked_array(
    [pa.array(["a", "b", None]), pa.array([], pa.string()), pa.array(["c"]), pa.array(["d", "e"])]
)


@pytest.mark.parametrize(
    "rows",
    [[], [0], [5], [0, 1, 2, 3, 4, 5], [1, 3, 3, 5], [2, 4], [0, 0, 0], [5, 1], [3, 0, 4]],
)
def test_the_rows_are_arrows_own(rows: list[int]) -> None:
    positions = pa.array(rows, pa.int64())
    assert take(COLUMN, positions).to_pylist() == COLUMN.take(positions).to_pylist()
    assert take(COLUMN, positions.cast(pa.uint32())).to_pylist() == [
        COLUMN[i].as_py() for i in rows
    ]


def test_a_row_past_the_end_is_arrows_error() -> None:
    with pytest.raises(IndexError):
        take(COLUMN, pa.array([1, 6], pa.int64()))


CHILD = """
import sys
import pyarrow as pa
from reconciler.chunktake import take

size, step = 2_000_000, 100_000
names = [f"Name{i % 1000}" for i in range(size)]
chunks = [pa.array(names[lo : lo + step]) for lo in range(0, size, step)]
del names
column = pa.chunked_array(chunks)
rows = pa.array(range(0, size, 100), pa.int64())
pool = pa.default_memory_pool()
before = pool.max_memory()  # this process's high-water mark: the column, as it was built
taken = take(column, rows) if sys.argv[1] == "chunked" else column.take(rows)
assert taken.to_pylist() == [f"Name{i % 1000}" for i in range(0, size, 100)]
print(pool.max_memory() - before, column.nbytes)
"""


@pytest.mark.parametrize(("how", "copies"), [("chunked", False), ("arrow", True)])
def test_a_few_rows_of_a_large_column_hold_only_those_rows(how: str, copies: bool) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, how], capture_output=True, text=True, check=True
    )
    grew, size = (int(n) for n in run.stdout.split())
    # the rows taken (20,000 short strings: well under 1 MB); Arrow's take copies the column
    assert (grew > size / 2) is copies, (grew, size)
