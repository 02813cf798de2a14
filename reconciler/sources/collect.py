"""Fold batches of rows into a segment: normalise, deduplicate, count, sample, fingerprint.

While rows stream in, only compact Arrow arrays of the valid normalised emails (and the mapped
columns' values) are kept, so the source's own buffers and ours never peak together with a
million Python strings. Once the source is closed, the unique emails stay one Arrow array
(``email_array``; ``emails`` is a set view of it) and the fields stay column-wise: the plan
diffs the arrays and turns only the difference into Python strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import mask_email
from reconciler.sources.base import Batch
from reconciler.sources.columns import ColumnStore
from reconciler.sources.emailset import EmailSet
from reconciler.sources.fields import ProfileFields
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
    emails: Set[str] = frozenset()
    email_array: pa.StringArray | None = None
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
        self._emails = []
        if not self._columns:
            unique = pc.unique(emails)
            del emails
            fingerprint = Fingerprint(groups.distinct, groups.hash_sum).hexdigest()
            return replace(
                summary, emails=EmailSet(unique), email_array=unique, fingerprint=fingerprint
            )
        unique, rows = _first_rows(emails)
        del emails
        records = ProfileFields(
            unique,
            rows,
            {name: self._columns[c] for name, c in self.fields.attributes.items()},
            {name: self._columns[c] for name, c in self.fields.properties.items()},
        )
        self._columns = {}
        return replace(
            summary,
            emails=EmailSet(unique),
            email_array=unique,
            properties=records,
            fingerprint=_fingerprint(records),
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


def _first_rows(emails: pa.ChunkedArray) -> tuple[pa.StringArray, pa.Int64Array]:
    """Each distinct email once (in order of first appearance) and the row it first appears in."""
    rows = pa.array(range(len(emails)), type=pa.int64())
    table = pa.table({"email": emails, "row": rows})
    del rows
    firsts = table.group_by("email", use_threads=False).aggregate([("row", "min")])
    del table
    unique: pa.StringArray = firsts.column("email").combine_chunks()
    first: pa.Int64Array = firsts.column("row_min").combine_chunks()
    return unique, first


def _fingerprint(records: ProfileFields) -> str:
    """The segment fingerprint from each profile's email and its first row's fields."""
    fingerprint = Fingerprint()
    for start in range(0, len(records), SLICE):
        emails, columns = records.slice_values(start, SLICE)
        parts = [[field_part(key, v) for v in columns[key]] for key in sorted(columns)]
        fingerprint.add(["".join(texts) for texts in zip(emails, *parts, strict=True)])
    return fingerprint.hexdigest()


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
