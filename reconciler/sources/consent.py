"""The consent columns of a segment: who consented to marketing, and when.

An export with ``subscribe:`` names a column that is true for consenting rows and, optionally,
one with the moment of consent. Both stay column-wise, aligned with the segment's unique emails;
only the rows the plan asks about become Python values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from reconciler.sources.columns import ColumnStore

TRUE_TEXTS = frozenset({"true", "t", "yes", "y", "1"})


def is_consent(value: object) -> bool:
    """Whether a consent column's value means "consented": true, a non-zero number, or a
    text such as ``true``, ``yes``, ``1`` (case-insensitive); anything else does not."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in TRUE_TEXTS
    return False


def consent_moment(value: object) -> dt.datetime | None:
    """A consented-at value as an aware UTC datetime (naive values are taken as UTC);
    None for a missing or unreadable value."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class ConsentColumns:
    """The consent and consented-at values of each unique email (``rows``: each email's first
    row in the stores; None: email ``i`` is row ``i``)."""

    consent: ColumnStore
    consented_at: ColumnStore | None
    rows: pa.Int64Array | None
    count: int

    def consenting(self) -> list[int]:
        """Positions (among the unique emails) of the rows that consented."""
        values = self._values(self.consent)
        return [i for i, value in enumerate(values) if is_consent(value)]

    def moments(self, positions: Sequence[int]) -> list[dt.datetime | None]:
        """The consent moment of each of ``positions`` (None without a consented-at column)."""
        if self.consented_at is None:
            return [None] * len(positions)
        rows = pa.array(positions, type=pa.int64())
        if self.rows is not None:
            rows = self.rows.take(rows)
        return [consent_moment(v) for v in self.consented_at.take(rows)]

    def _values(self, store: ColumnStore) -> list[object]:
        if self.rows is None:
            return store.slice(0, self.count)
        return store.take(self.rows)
