"""A segment's valid emails as they are read: in one growing buffer, or in a private file.

Up to ``spill_at`` rows the emails grow in a :class:`~reconciler.sources.textbuffer.TextBuffer`
(their text once, no concatenation). From ``spill_at`` rows on, the buffer's emails and every
later batch go to a private file (:class:`~reconciler.spill.SpillWriter`) as they come: a read
of ten million rows then never holds its 300 MB of emails. Keeping the first row of each email
rewrites the file a batch at a time (or moves the buffer's first rows to its front).
"""

from __future__ import annotations

import pyarrow as pa

from reconciler.chunkstream import zipped
from reconciler.sources.textbuffer import TextBuffer
from reconciler.spill import SpilledStrings, SpillWriter

WHAT = "its emails"  # what a spill error names


class GatheredEmails:
    """Strings (no nulls) appended array by array; the column of them, then its kept rows."""

    def __init__(self, spill_at: int) -> None:
        self._spill_at = spill_at
        self._buffer: TextBuffer | None = TextBuffer()
        self._writer: SpillWriter | None = None
        self._spilled: SpilledStrings | None = None

    def append(self, strings: pa.StringArray) -> None:
        if self._writer is not None:
            self._writer.append(strings)
            return
        assert self._buffer is not None, "appended after the column was taken"
        self._buffer.append(strings)
        if len(self._buffer) >= self._spill_at:
            self._writer = SpillWriter(WHAT)
            self._writer.append(self._buffer.array())
            self._buffer = None

    def column(self) -> pa.StringArray | SpilledStrings:
        """Every string appended (an array over the buffer, zero-copy; or the file)."""
        if self._writer is not None:
            self._spilled, self._writer = self._writer.finish(), None
        if self._spilled is not None:
            return self._spilled
        assert self._buffer is not None
        return self._buffer.array()

    def kept(self, keep: pa.BooleanArray | None) -> pa.StringArray | SpilledStrings:
        """Only the strings where ``keep`` is true (None: all of them), in order; the
        column taken before is no longer valid (the buffer's strings moved)."""
        column = self.column()
        if keep is None:
            return column
        if isinstance(column, SpilledStrings):
            writer = SpillWriter(WHAT)
            for chunk, flags in zipped(column.chunks(), [keep]):
                writer.append(chunk.filter(flags))
            self._spilled = writer.finish()
            return self._spilled
        assert self._buffer is not None
        return self._buffer.keep(keep)
