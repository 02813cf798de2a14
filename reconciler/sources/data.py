"""The values a segment read produces: the plan engine's input and the preview's report."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import TypeAlias

import pyarrow as pa

from reconciler.jsonable import fields_json
from reconciler.sources.consent import ConsentColumns
from reconciler.spill import SpilledStrings

Digests: TypeAlias = "pa.UInt64Array | SpilledStrings"  # of one field, a member each


@dataclass(frozen=True)
class SegmentData:
    """One export's view of its segment: valid, normalised, deduplicated emails."""

    segment: str
    source: str
    columns: tuple[str, ...]
    rows: int  # rows returned by the query
    emails: Set[str]  # valid, normalised, deduplicated (see email_array)
    # email -> {"first_name": .., "properties": {...}}: Klaviyo attribute names as keys, JSON
    # values, null values left out; an empty mapping when the export maps no extra field.
    properties: Mapping[str, Mapping[str, object]]
    invalid: int
    duplicates: int
    invalid_samples: tuple[str, ...]  # masked, at most 5
    duplicate_samples: tuple[str, ...]  # masked, at most 5
    fingerprint: str
    # The same emails as one Arrow string array (what the plan diffs): ``emails`` is then a
    # view of it that makes Python strings only when used. None when built from a plain set.
    # From ``SPILL_AT`` valid rows (see reconciler.sources.collect) they are in a private
    # file (:class:`~reconciler.spill.SpilledStrings`), read back a batch at a time.
    email_array: pa.StringArray | SpilledStrings | None = None
    # per mapped field key ("first_name", "properties.tier"): a 64-bit digest of each unique
    # email's value, aligned with ``email_array`` (0 for a null value); empty without fields;
    # spilled with the emails (as are the mapped values themselves)
    field_digests: Mapping[str, Digests] = field(default_factory=dict)
    consent: ConsentColumns | None = None  # with subscribe: the consent of each unique email
    # Rows the email validator refused, as a list member with that address would be read
    # (trimmed, lower-cased): mirror mode keeps such members rather than removing them.
    rejected: pa.StringArray | None = None
    # Rows whose fields.phone_number is no possible number (dropped from their profile).
    invalid_phones: int = 0
    invalid_phone_samples: tuple[str, ...] = ()  # masked, at most 5


@dataclass(frozen=True)
class SegmentPreview:
    """Counts, columns and masked samples of a segment, read with one email column."""

    segment: str
    source: str
    email_column: str
    columns: tuple[str, ...]
    rows: int
    valid: int
    invalid: int
    duplicates: int
    samples: tuple[str, ...]  # masked valid emails, in row order
    invalid_samples: tuple[str, ...]
    duplicate_samples: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        """The ``segments preview --format json`` document."""
        return fields_json(
            self, ("segment", "rows", "valid", "invalid", "duplicates", "columns", "samples")
        )
