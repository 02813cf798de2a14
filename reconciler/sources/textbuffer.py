"""A segment's emails in one growing buffer, batch after batch, and one Arrow array over it.

Collecting Arrow arrays batch by batch and concatenating them at the end holds the text twice
at that moment; keeping only the first row of each email then copies it once more. Here the
text and its offsets grow in two ``bytearray`` objects (a large one grows in place, without a
copy), the array over them is zero-copy, and the first rows are moved to the front of the same
buffers (:meth:`TextBuffer.keep`): a 10,000,000-row segment's peak holds its text once, not
two or three times.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SLICE = 100_000  # rows moved at a time by keep()
_OFFSET = 4  # bytes of an int32 offset
MAX_TEXT = 2**31 - 1  # an Arrow string array's limit


class TextBuffer:
    """Strings (no nulls) appended array by array; one ``pa.string()`` array over them."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._offsets = bytearray(_OFFSET)  # the first offset: 0
        self._length = 0
        self._size = 0  # bytes of text

    def __len__(self) -> int:
        return self._length

    def append(self, strings: pa.StringArray) -> None:
        """Add ``strings`` (an array without nulls) at the end."""
        if len(strings) == 0:
            return
        offsets = _offsets_of(strings)
        first, last = offsets[0].as_py(), offsets[-1].as_py()
        if self._size + last - first > MAX_TEXT:
            raise OverflowError("more than 2 GiB of emails in one segment")
        self._data += _bytes(strings.buffers()[2], last)[first:]
        moved = pc.add(offsets.slice(1), self._size - first).cast(pa.int32())
        self._offsets += _bytes(moved.buffers()[1], _OFFSET * len(moved))
        self._length += len(strings)
        self._size += last - first

    def array(self) -> pa.StringArray:
        """The strings so far, zero-copy (valid until :meth:`keep` moves them)."""
        return _array(self._data, self._offsets, self._length, self._size)

    def keep(self, mask: pa.BooleanArray) -> pa.StringArray:
        """Only the strings where ``mask`` is true, in order, moved to the front of the same
        buffers; returns the array over them. Each slice is copied out before it is written
        back at or before where it was, so nothing is overwritten before it is read."""
        strings = self.array()
        length = size = 0
        data, offsets = memoryview(self._data), memoryview(self._offsets)
        for start in range(0, self._length, SLICE):
            piece = strings.slice(start, SLICE).filter(mask.slice(start, SLICE))
            if len(piece) == 0:
                continue
            piece_offsets = _offsets_of(piece)
            first, end = piece_offsets[0].as_py(), piece_offsets[-1].as_py()
            data[size : size + end - first] = _bytes(piece.buffers()[2], end)[first:]
            moved = pc.add(piece_offsets.slice(1), size - first).cast(pa.int32())
            at, count = _OFFSET * (length + 1), _OFFSET * len(piece)
            offsets[at : at + count] = _bytes(moved.buffers()[1], count)
            length += len(piece)
            size += end - first
        del strings
        self._length, self._size = length, size
        return self.array()


def _bytes(buffer: pa.Buffer | None, end: int) -> memoryview:
    """The first ``end`` bytes of ``buffer``, as unsigned bytes (what a bytearray holds)."""
    if buffer is None or end == 0:
        return memoryview(b"")
    return memoryview(buffer).cast("B")[:end]


def _offsets_of(strings: pa.StringArray) -> pa.Int32Array:
    """The ``len + 1`` offsets of ``strings`` (which may be a slice of a larger array)."""
    buffer = strings.buffers()[1]
    found: pa.Int32Array = pa.Array.from_buffers(
        pa.int32(), len(strings) + 1, [None, buffer], offset=strings.offset
    )
    return found


def _array(data: bytearray, offsets: bytearray, length: int, size: int) -> pa.StringArray:
    views = [None, pa.py_buffer(memoryview(offsets)[: _OFFSET * (length + 1)])]
    views.append(pa.py_buffer(memoryview(data)[:size]))
    found: pa.StringArray = pa.Array.from_buffers(pa.string(), length, views)
    return found
