"""Fold batches of rows into a segment: normalise, deduplicate, count, sample, fingerprint.

While rows stream in, only compact Arrow arrays of the valid normalised emails (and the mapped
columns' values) are kept, so the source's own buffers and ours never peak together with a
million Python strings. Once the source is closed, the unique emails become Python strings
exactly once, in the frozenset itself (or as the keys of the per-profile fields).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import mask_email
from reconciler.sources.base import Batch
from reconciler.sources.columns import ColumnStore
from reconciler.sources.fields import ProfileFields, plain_values
from reconciler.sources.fingerprint import FINGERPRINT_TERM, Fingerprint, field_part
from reconciler.sources.normalise import as_string_array, normalise_array

SLICE = 100_000


@dataclass(frozen=True)
class FieldMap:
    """Resolved result columns: the email column and extra Klaviyo fields to carry."""

    email: str
    attributes: dict[str, str] = field(default_factory=dict)  # Klaviyo attribute -> column
    properties: dict[str, str] = field(default_factory=dict)  # custom property -> column

    def extra_columns(self) -> list[str]:
        wanted = [*self.attributes.values(), *self.properties.values()]
        return list(dict.fromkeys(wanted))


@dataclass(frozen=True)
class Collected:
    """The folded segment."""

    rows: int
    valid: int
    invalid: int
    duplicates: int
    valid_samples: tuple[str, ...]
    invalid_samples: tuple[str, ...]
    duplicate_samples: tuple[str, ...]
    emails: frozenset[str] = frozenset()
    properties: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    fingerprint: str = ""


class SegmentCollector:
    """Accumulates one segment read, batch by batch."""

    def __init__(self, fields: FieldMap, sample_limit: int = 5) -> None:
        self.fields = fields
        self.sample_limit = sample_limit
        self.rows = 0
        self.invalid = 0
        self.invalid_samples: list[str] = []
        self._emails: list[pa.Array] = []
        self._columns = {c: ColumnStore() for c in fields.extra_columns()}

    def add(self, batch: Batch) -> None:
        raw = as_string_array(batch.emails())
        normalised = normalise_array(raw)
        self.rows += len(raw)
        self.invalid += normalised.null_count
        if normalised.null_count and len(self.invalid_samples) < self.sample_limit:
            bad = raw.filter(pc.is_null(normalised)).slice(0, self.sample_limit)
            self.invalid_samples.extend(mask_email(v) for v in bad.to_pylist())
            del self.invalid_samples[self.sample_limit :]
        positions = pc.indices_nonzero(pc.is_valid(normalised))
        self._emails.append(normalised.take(positions))
        for column, store in self._columns.items():
            store.add(batch.values(column, positions))

    def finish(self, *, materialise: bool = True) -> Collected:
        """Deduplicate (first row wins); with ``materialise``, the emails, fields, fingerprint."""
        emails = pa.chunked_array(self._emails, type=pa.string())
        groups = _groups(emails, self.sample_limit)
        summary = Collected(
            rows=self.rows,
            valid=groups.distinct,
            invalid=self.invalid,
            duplicates=len(emails) - groups.distinct,
            valid_samples=self._valid_samples(emails),
            invalid_samples=tuple(self.invalid_samples),
            duplicate_samples=tuple(mask_email(e) for e in groups.repeated),
        )
        if not materialise:
            return summary
        if not self._columns:
            del emails
            found = frozenset(_strings(self._emails))
            fingerprint = Fingerprint(groups.distinct, groups.hash_sum).hexdigest()
            return replace(summary, emails=found, fingerprint=fingerprint)
        self._emails = []
        records, fingerprint = self._records(emails)
        return replace(
            summary, emails=frozenset(records), properties=records, fingerprint=fingerprint
        )

    def _valid_samples(self, emails: pa.ChunkedArray) -> tuple[str, ...]:
        samples: list[str] = []
        for start in range(0, len(emails), SLICE):
            for email in emails.slice(start, SLICE).to_pylist():
                if len(samples) >= self.sample_limit:
                    return tuple(mask_email(e) for e in samples)
                if email not in samples:
                    samples.append(email)
        return tuple(mask_email(e) for e in samples)

    def _records(self, emails: pa.ChunkedArray) -> tuple[ProfileFields, str]:
        """Each email's mapped fields from its first row, and the fingerprint."""
        keys = {
            **self.fields.attributes,
            **{f"properties.{p}": c for p, c in self.fields.properties.items()},
        }
        records = ProfileFields(list(self.fields.attributes), list(self.fields.properties))
        fingerprint = Fingerprint()
        for start in range(0, len(emails), SLICE):
            batch: list[str] = emails.slice(start, SLICE).to_pylist()
            fresh = records.claim(batch)
            columns = {c: store.slice(start, SLICE) for c, store in self._columns.items()}
            picked = {key: plain_values([columns[c][i] for i in fresh]) for key, c in keys.items()}
            records.extend({key.removeprefix("properties."): v for key, v in picked.items()})
            parts = [[field_part(key, v) for v in picked[key]] for key in sorted(picked)]
            fresh_emails = [batch[i] for i in fresh]
            fingerprint.add(["".join(texts) for texts in zip(fresh_emails, *parts, strict=True)])
        self._columns = {}
        return records, fingerprint.hexdigest()


@dataclass(frozen=True)
class _Groups:
    distinct: int
    repeated: list[str]  # a few emails that occur more than once
    hash_sum: int  # sum of the emails' fingerprint hashes (exact, not reduced)


def _groups(emails: pa.ChunkedArray, limit: int) -> _Groups:
    """Distinct count, repeated samples and fingerprint sum: one aggregation inside DuckDB."""
    term = FINGERPRINT_TERM.format(column="email")
    query = f"""
        WITH g AS (SELECT email, count(*) AS n FROM valid_emails GROUP BY email)
        SELECT count(*), coalesce(sum({term}), 0),
               (list(email ORDER BY email) FILTER (WHERE n > 1))[1:{int(limit)}]
        FROM g
    """
    with duckdb.connect(":memory:", config={"threads": 1}) as connection:
        connection.register("valid_emails", pa.table({"email": emails}))
        ((distinct, hash_sum, repeated),) = connection.sql(query).fetchall()
    return _Groups(int(distinct), list(repeated or []), int(hash_sum))


def _strings(chunks: list[pa.Array]) -> Iterator[str]:
    """The emails of ``chunks`` as Python strings, releasing each chunk once converted."""
    chunks.reverse()
    while chunks:
        yield from chunks.pop().to_pylist()
