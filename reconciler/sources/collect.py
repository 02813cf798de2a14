"""Fold batches of rows into a segment: normalise, deduplicate, count, sample, fingerprint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.emails import mask_email
from reconciler.sources.base import Batch
from reconciler.sources.fingerprint import Fingerprint, profile_text
from reconciler.sources.normalise import as_string_array, normalise_array
from reconciler.sources.values import json_value


@dataclass(frozen=True)
class FieldMap:
    """Resolved result columns: the email column and extra Klaviyo fields to carry."""

    email: str
    attributes: dict[str, str] = field(default_factory=dict)  # Klaviyo attribute -> column
    properties: dict[str, str] = field(default_factory=dict)  # custom property -> column

    def extra_columns(self) -> list[str]:
        wanted = [*self.attributes.values(), *self.properties.values()]
        return list(dict.fromkeys(wanted))


class SegmentCollector:
    """Accumulates one segment read; holds one string per valid email, no per-row dicts."""

    def __init__(self, fields: FieldMap, sample_limit: int = 5) -> None:
        self.fields = fields
        self.sample_limit = sample_limit
        self.seen: set[str] = set()
        self.properties: dict[str, dict[str, object]] = {}
        self.fingerprint = Fingerprint()
        self.rows = 0
        self.invalid = 0
        self.duplicates = 0
        self.valid_samples: list[str] = []
        self.invalid_samples: list[str] = []
        self.duplicate_samples: list[str] = []

    def add(self, batch: Batch) -> None:
        raw = as_string_array(batch.emails())
        normalised = normalise_array(raw)
        self.rows += len(normalised)
        new_positions: list[int] = []
        new_emails: list[str] = []
        seen = self.seen
        for position, email in enumerate(normalised):
            if email is None:
                self._invalid(raw[position].as_py())
            elif email in seen:
                self._duplicate(email)
            else:
                seen.add(email)
                new_positions.append(position)
                new_emails.append(email)
        self._sample(new_emails)
        self._carry(batch, new_positions, new_emails)

    def _invalid(self, value: object) -> None:
        self.invalid += 1
        if len(self.invalid_samples) < self.sample_limit:
            self.invalid_samples.append(mask_email(value))

    def _duplicate(self, email: str) -> None:
        self.duplicates += 1
        if len(self.duplicate_samples) < self.sample_limit:
            self.duplicate_samples.append(mask_email(email))

    def _sample(self, emails: Sequence[str]) -> None:
        room = self.sample_limit - len(self.valid_samples)
        if room > 0:
            self.valid_samples.extend(mask_email(e) for e in emails[:room])

    def _carry(self, batch: Batch, positions: list[int], emails: list[str]) -> None:
        if not self.fields.attributes and not self.fields.properties:
            self.fingerprint.add([f"{email}\0" for email in emails])
            return
        columns = {c: batch.values(c, positions) for c in self.fields.extra_columns()}
        texts = []
        for index, email in enumerate(emails):
            record = self._record({c: values[index] for c, values in columns.items()})
            self.properties[email] = record
            texts.append(profile_text(email, record))
        self.fingerprint.add(texts)

    def _record(self, row: dict[str, object]) -> dict[str, object]:
        record: dict[str, object] = {}
        for attribute, column in self.fields.attributes.items():
            value = json_value(row[column])
            if value is not None:
                record[attribute] = value
        custom = {}
        for name, column in self.fields.properties.items():
            value = json_value(row[column])
            if value is not None:
                custom[name] = value
        if custom:
            record["properties"] = custom
        return record
