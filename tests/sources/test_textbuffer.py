"""The segment's emails in one growing buffer: appended arrays (slices too) read back in order,
and keeping the first rows moves them to the front of the same buffers."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from reconciler.sources import textbuffer
from reconciler.sources.textbuffer import TextBuffer


def test_appended_arrays_and_slices_read_back_in_order() -> None:
    buffer = TextBuffer()
    whole = pa.array(["a@x.co", "bb@y.org", "ccc@z.net", "d@w.io"], type=pa.string())
    buffer.append(whole.slice(1, 2))  # an array with an offset
    buffer.append(pa.array([], type=pa.string()))
    buffer.append(whole)
    assert len(buffer) == 6
    assert buffer.array().to_pylist() == ["bb@y.org", "ccc@z.net", *whole.to_pylist()]


@pytest.mark.parametrize("slice_size", [1, 3, 100_000])
def test_keep_moves_the_kept_strings_forward_in_order(
    monkeypatch: pytest.MonkeyPatch, slice_size: int
) -> None:
    monkeypatch.setattr(textbuffer, "SLICE", slice_size)
    rng = random.Random(5)
    values = [f"u{i}{'x' * rng.randrange(30)}@example.com" for i in range(200)]
    buffer = TextBuffer()
    for start in range(0, len(values), 17):
        buffer.append(pa.array(values[start : start + 17], type=pa.string()))
    flags = [rng.random() < 0.7 for _ in values]
    kept = buffer.keep(pa.array(flags, type=pa.bool_()))
    assert kept.to_pylist() == [v for v, f in zip(values, flags, strict=True) if f]
    assert kept.type == pa.string() and kept.validate(full=True) is None
