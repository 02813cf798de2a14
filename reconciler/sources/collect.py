"""Fold batches of rows into a segment: normalise, deduplicate, count, sample, fingerprint.

While rows stream in, only compact Arrow arrays of the valid normalised emails (and the mapped
columns' values) are kept, so the source's own buffers and ours never peak together with a
million Python strings. Once the source is closed, the unique emails stay one Arrow array
(``email_array``; ``emails`` is a set view of it) and the fields stay column-wise: the plan
diffs the arrays and turns only the difference into Python strings. From ``SPILL_AT`` valid
rows on, the emails go to a private file as they are read (``sources.gathered``), and once the
fingerprint is made the mapped values and their digests go to files too.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.chunkstream import chunks_of
from reconciler.emails import mask_email, rejected_form
from reconciler.sources.base import Batch, ColumnValues
from reconciler.sources.columns import ColumnStore, plain_values
from reconciler.sources.consent import ConsentColumns
from reconciler.sources.data import Digests
from reconciler.sources.dedup import deduplicated, hash_sum
from reconciler.sources.emailset import EmailSet
from reconciler.sources.fields import ProfileFields
from reconciler.sources.fingerprint import Fingerprint, TextHasher, arrow_parts, field_part
from reconciler.sources.gathered import GatheredEmails
from reconciler.sources.normalise import as_string_array, normalise_array
from reconciler.sources.phones import mask_phone, normalise_phone
from reconciler.spill import SpilledStrings, SpillWriter

SAMPLE_SLICE = 1_000  # samples are looked for among this many emails at a time
FINGERPRINT_SLICE = 100_000  # profile texts are built and hashed this many at a time
SPILL_AT = 2_000_000  # valid rows from which a segment's emails go to a private file


@dataclass(frozen=True)
class FieldMap:
    """Resolved result columns: the email column and extra Klaviyo fields to carry."""

    email: str
    attributes: dict[str, str] = field(default_factory=dict)  # Klaviyo attribute -> column
    properties: dict[str, str] = field(default_factory=dict)  # custom property -> column
    phone_region: str | None = None  # default region of phone numbers without country code
    consent: str | None = None  # column true for rows that consented (subscribe:)
    consented_at: str | None = None  # column with the moment of consent

    def extra_columns(self) -> list[str]:
        wanted = [*self.attributes.values(), *self.properties.values()]
        wanted += [c for c in (self.consent, self.consented_at) if c is not None]
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
    email_array: pa.StringArray | SpilledStrings | None = None
    properties: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    fingerprint: str = ""
    # per mapped field key: a 64-bit digest of each unique email's value (0: null)
    field_digests: Mapping[str, Digests] = field(default_factory=dict)
    consent: ConsentColumns | None = None
    rejected: pa.StringArray | None = None  # see SegmentData.rejected
    invalid_phones: int = 0
    invalid_phone_samples: tuple[str, ...] = ()


class SegmentCollector:
    """Accumulates one segment read, batch by batch."""

    def __init__(self, fields: FieldMap, sample_limit: int = 5) -> None:
        self.fields = fields
        self.sample_limit = sample_limit
        self.rows = 0
        self.invalid = 0
        self.invalid_samples: list[str] = []
        self._emails = GatheredEmails(SPILL_AT)
        self._rejected: list[pa.Array] = []
        self._columns = {c: ColumnStore() for c in fields.extra_columns()}
        # Phone numbers are normalised for an export with a default_region; without one they
        # go as they are (Klaviyo refuses a number that is not E.164, reported per profile).
        self._phone = fields.attributes.get("phone_number") if fields.phone_region else None
        self.invalid_phones = 0
        self.invalid_phone_samples: list[str] = []

    def add(self, batch: Batch) -> None:
        raw = as_string_array(batch.emails())
        normalised = normalise_array(raw)
        self.rows += len(raw)
        self.invalid += normalised.null_count
        if normalised.null_count:
            self._refused(raw.filter(pc.is_null(normalised)).to_pylist())
        positions = pc.indices_nonzero(pc.is_valid(normalised))
        self._emails.append(normalised.take(positions))
        for column, store in self._columns.items():
            values = batch.values(column, positions)
            store.add(self._phones(values) if column == self._phone else values)

    def _phones(self, values: ColumnValues) -> list[object]:
        """The phone numbers in E.164 form; a value that is no possible number becomes null."""
        raw = values if isinstance(values, list) else values.to_pylist()
        region = self.fields.phone_region
        phones: list[object] = []
        for value in raw:
            phone = normalise_phone(value, region)
            if phone is None and value is not None and str(value).strip():
                self.invalid_phones += 1
                if len(self.invalid_phone_samples) < self.sample_limit:
                    self.invalid_phone_samples.append(mask_phone(value))
            phones.append(phone)
        return phones

    def _refused(self, values: list[object]) -> None:
        """Invalid rows: masked samples, and the forms a list member of each would have."""
        if len(self.invalid_samples) < self.sample_limit:
            self.invalid_samples.extend(mask_email(v) for v in values[: self.sample_limit])
            del self.invalid_samples[self.sample_limit :]
        forms = [form for v in values if (form := rejected_form(v)) is not None]
        if forms:
            self._rejected.append(pa.array(forms, type=pa.string()))

    def finish(self, *, materialise: bool = True) -> Collected:
        """Deduplicate (first row wins); with ``materialise``, the emails, fields, fingerprint."""
        # One contiguous array over the buffer the batches were appended to (the text is
        # never concatenated), or the private file they went to (a large segment's)
        emails = self._emails.column()
        found, keep = deduplicated(emails, self.sample_limit)
        summary = Collected(
            rows=self.rows,
            valid=found.count,
            invalid=self.invalid,
            duplicates=len(emails) - found.count,
            valid_samples=self._valid_samples(emails),
            invalid_samples=tuple(self.invalid_samples),
            duplicate_samples=tuple(mask_email(e) for e in found.repeated),
            rejected=_unique(self._rejected),
            invalid_phones=self.invalid_phones,
            invalid_phone_samples=tuple(self.invalid_phone_samples),
        )
        if not materialise:
            return summary
        del found, emails
        unique = self._emails.kept(keep)
        self._emails = GatheredEmails(SPILL_AT)  # ``unique`` keeps the buffers alive
        rows = None if keep is None or not self._columns else _rows(keep)
        del keep
        consent = self._consent(rows, len(unique))
        fingerprint, records, digests = self._fields(unique, rows)
        if isinstance(records, ProfileFields) and isinstance(unique, SpilledStrings):
            records.spill()  # the plan takes back the values of the rows it adds or updates
        return replace(
            summary,
            emails=EmailSet(unique),
            email_array=unique,
            properties=records,
            fingerprint=fingerprint,
            field_digests=digests,
            consent=consent,
        )

    def _fields(
        self, unique: pa.StringArray | SpilledStrings, rows: pa.Int64Array | None
    ) -> tuple[str, Mapping[str, Mapping[str, object]], Mapping[str, Digests]]:
        """The fingerprint, the mapped fields of each profile and their digests (without mapped
        fields: from the emails alone, and none)."""
        if not self.fields.attributes and not self.fields.properties:
            return Fingerprint(len(unique), hash_sum(unique)).hexdigest(), {}, {}
        records = ProfileFields(
            unique,
            rows,
            {name: self._columns[c] for name, c in self.fields.attributes.items()},
            {name: self._columns[c] for name, c in self.fields.properties.items()},
        )
        self._columns = {}
        fingerprint, digests = _fingerprint(records, spill=isinstance(unique, SpilledStrings))
        return fingerprint, records, digests

    def _consent(self, rows: pa.Int64Array | None, count: int) -> ConsentColumns | None:
        if self.fields.consent is None:
            return None
        at = self.fields.consented_at
        return ConsentColumns(
            self._columns[self.fields.consent],
            self._columns[at] if at is not None else None,
            rows,
            count,
        )

    def _valid_samples(self, emails: pa.StringArray | SpilledStrings) -> tuple[str, ...]:
        samples: list[str] = []
        for chunk in chunks_of(emails, SAMPLE_SLICE):
            for email in chunk.to_pylist():
                if len(samples) >= self.sample_limit:
                    return tuple(mask_email(e) for e in samples)
                if email not in samples:
                    samples.append(email)
        return tuple(mask_email(e) for e in samples)


def _rows(keep: pa.BooleanArray) -> pa.Int64Array:
    """The rows ``keep`` marks, ascending (what the mapped columns and consent pick by)."""
    rows: pa.Int64Array = pc.indices_nonzero(keep).cast(pa.int64())
    return rows


def _unique(arrays: list[pa.Array]) -> pa.StringArray | None:
    if not arrays:
        return None
    unique: pa.StringArray = pc.unique(pa.concat_arrays(arrays))
    return unique


def _fingerprint(records: ProfileFields, *, spill: bool) -> tuple[str, dict[str, Digests]]:
    """The segment fingerprint from each profile's email and its first row's fields, and each
    field's digests (what the plan compares with the values last sent, to find updates;
    ``spill``: written to private files as they are made, never joined in memory).
    Texts are built inside Arrow where the column allows it, in Python where not."""
    fingerprint = Fingerprint()
    digests: dict[str, _Digests] = {}
    with TextHasher() as hasher:
        for start in range(0, len(records), FINGERPRINT_SLICE):
            emails, columns = records.slice_columns(start, FINGERPRINT_SLICE)
            keys = sorted(columns)
            parts = [_parts(key, columns[key]) for key in keys]
            texts = pc.binary_join_element_wise(emails, *parts, "") if parts else emails
            fingerprint.add_sum(len(texts), hasher.total(texts))
            for key, values in zip(keys, parts, strict=True):
                if key not in digests:
                    digests[key] = _Digests(spill)
                digests[key].append(hasher.digests(values))
    return fingerprint.hexdigest(), {key: made.finish() for key, made in digests.items()}


class _Digests:
    """One field's digests as they are made: gathered, or written to a private file."""

    def __init__(self, spill: bool) -> None:
        self._pieces: list[pa.Array] = []
        self._file = SpillWriter("its mapped values", pa.uint64()) if spill else None

    def append(self, piece: pa.Array) -> None:
        if self._file is not None:
            self._file.append(piece)
        else:
            self._pieces.append(piece)

    def finish(self) -> Digests:
        if self._file is not None:
            return self._file.finish()
        return pa.concat_arrays(self._pieces) if self._pieces else pa.array([], pa.uint64())


def _parts(key: str, values: pa.Array | list[object]) -> pa.StringArray:
    """Each value's ``field_part``: inside Arrow when it can be, else in Python."""
    if isinstance(values, pa.Array):
        parts = arrow_parts(key, values)
        if parts is not None:
            return parts
        values = plain_values(values.to_pylist())
    return pa.array([field_part(key, v) for v in values], type=pa.string())
