"""A spilled column of strings: back in order a batch at a time, or at any rows; its file is
private and gone from the directory while the column is still in use."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest

from reconciler import spill
from reconciler.spill import SpilledStrings, SpillError, SpillWriter


def _emails(count: int) -> list[str]:
    return [f"p{i}.ünï@example.com" for i in range(count)]


@pytest.mark.parametrize("batch", [1, 7, 64, 1_000])
def test_batches_and_rows_come_back_as_written(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BATCH", batch)
    values = _emails(300)
    column = SpilledStrings(pa.chunked_array([pa.array(values[:100]), pa.array(values[100:])]))
    assert len(column) == 300
    assert [v for chunk in column.chunks() for v in chunk.to_pylist()] == values
    picked = [*random.Random(batch).choices(range(300), k=90), 299, 0]
    assert column.take(pa.array(picked, pa.uint32())).to_pylist() == [values[i] for i in picked]
    with_nulls = pa.array([5, None, 250, None, 5], pa.int64())
    assert column.take(with_nulls).to_pylist() == [values[5], None, values[250], None, values[5]]
    assert column.take(pa.array([], pa.int64())).to_pylist() == []


def test_the_file_is_private_and_unlinked_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    created: list[int] = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        handle, path = real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]
        created.append(os.stat(path).st_mode & 0o777)
        return handle, path

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    column = SpilledStrings(pa.array(_emails(50)))
    assert created == [0o600]
    assert list(tmp_path.iterdir()) == []  # nothing left, even while the column is read
    assert column.take(pa.array([49], pa.int64())).to_pylist() == [_emails(50)[49]]


@pytest.mark.parametrize("chunked", [False, True])
def test_matches_compares_each_pair_whatever_the_order(
    chunked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "BATCH", 5)
    values = _emails(40)
    column = SpilledStrings(pa.array(values))
    at = [7, None, 39, 0, 12, None, 7]
    strings = [values[i] if i is not None else "whatever" for i in at]
    plain = pa.array(strings)
    probe = pa.chunked_array([plain.slice(0, 3), plain.slice(3)]) if chunked else plain
    assert column.matches(probe, pa.array(at, pa.int64()))
    wrong = [*strings[:4], "p12.other@example.com", *strings[5:]]  # pair 4: another string
    plain = pa.array(wrong)
    probe = pa.chunked_array([plain.slice(0, 3), plain.slice(3)]) if chunked else plain
    assert not column.matches(probe, pa.array(at, pa.int64()))
    assert column.matches(pa.array(["x"]), pa.array([None], pa.int64()))


def test_ascending_rows_come_back_a_chunk_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan's rows ascend: they are taken batch by batch and kept as those chunks (a copy
    joining them would hold the strings twice for a moment)."""
    monkeypatch.setattr(spill, "BATCH", 10)
    values = _emails(100)
    column = SpilledStrings(pa.array(values))
    rows = [1, 2, 15, 16, 17, 90]
    taken = column.take(pa.array(rows, pa.int64()))
    assert isinstance(taken, pa.ChunkedArray) and taken.num_chunks == 3
    assert taken.to_pylist() == [values[i] for i in rows]


@pytest.mark.parametrize("batch", [1, 5, 64])
def test_a_writer_takes_pieces_of_any_size(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BATCH", batch)
    values = _emails(333)
    writer = SpillWriter()
    sizes = random.Random(batch).choices(range(0, 40), k=200)
    start = 0
    for size in sizes:
        piece = values[start : start + size]
        parts = [pa.array(piece[:3], pa.string()), pa.array(piece[3:], pa.string())]
        writer.append(pa.chunked_array(parts, pa.string()))
        start += len(piece)
    assert len(writer) == 333
    column = writer.finish()
    assert len(column) == 333
    assert [v for chunk in column.chunks() for v in chunk.to_pylist()] == values
    assert {len(chunk) for chunk in list(column.chunks())[:-1]} <= {batch}  # full batches


def test_a_directory_that_cannot_take_the_file_is_a_spill_error(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spill, "DIRECTORY", str(tmp_path / "missing"))
        with pytest.raises(SpillError) as raised:
            SpillWriter("the list's profile ids")
    assert str(raised.value).startswith("the list's profile ids could not be kept")
    assert "point TMPDIR at a larger disk" in str(raised.value)


def test_a_full_disk_while_writing_is_a_spill_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails (here: to Linux's /dev/full, which is always full) is the same
    precise error, not an OSError."""
    real_mkstemp = tempfile.mkstemp

    def full(*args: object, **kwargs: object) -> tuple[int, str]:
        handle, path = real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]
        os.unlink(path)
        os.symlink("/dev/full", path)
        return handle, path

    monkeypatch.setattr(tempfile, "mkstemp", full)
    monkeypatch.setattr(spill, "BATCH", 4)
    writer = SpillWriter()
    with pytest.raises(SpillError, match="could not be kept"):
        writer.append(pa.array(_emails(4_000)))
        writer.finish()
