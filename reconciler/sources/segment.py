"""Read a segment for an export (the plan engine's input) or preview it (for people)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from reconciler.emails import mask_emails_in
from reconciler.errors import ReconcilerError, SourceError
from reconciler.models import Config, Export, Segment, Source
from reconciler.sources.base import SegmentReader
from reconciler.sources.collect import FieldMap, SegmentCollector
from reconciler.sources.data import SegmentData, SegmentPreview
from reconciler.sources.files import open_files
from reconciler.spill import SpillError

SAMPLE_LIMIT = 5
_SHOWN_COLUMNS = 40


class UnknownSegmentError(SourceError):
    """The named segment is not declared."""

    def __init__(self, segment: str, known: Iterable[str]) -> None:
        ReconcilerError.__init__(self, f"segment '{segment}' is not declared")
        self.segment = segment
        self.source = ""
        self.hint = f"declared segments: {', '.join(sorted(known)) or '(none)'}"


def read_segment(
    config: Config, export: Export, config_dir: Path, *, batch_size: int = 50_000
) -> SegmentData:
    """Stream ``export``'s segment: valid, deduplicated emails and the fields it maps."""
    segment, source = _lookup(config, export.segment)
    with open_reader(source, segment, config_dir) as reader:
        fields = export_fields(export, segment.name, source.name, reader.columns)
        collector = _collect(reader, fields, batch_size, SAMPLE_LIMIT)
        columns = reader.columns
    try:
        found = collector.finish()  # after the source is closed: its buffers are released
    except SpillError as exc:  # a large segment's emails go to a temporary file
        raise SourceError(segment.name, source.name, str(exc), exc.hint) from exc
    return SegmentData(
        segment=segment.name,
        source=source.name,
        columns=columns,
        rows=found.rows,
        emails=found.emails,
        properties=found.properties,
        invalid=found.invalid,
        duplicates=found.duplicates,
        invalid_samples=found.invalid_samples,
        duplicate_samples=found.duplicate_samples,
        fingerprint=found.fingerprint,
        email_array=found.email_array,
        field_digests=found.field_digests,
        consent=found.consent,
        rejected=found.rejected,
        invalid_phones=found.invalid_phones,
        invalid_phone_samples=found.invalid_phone_samples,
    )


def check_segment(config: Config, export: Export, config_dir: Path) -> None:
    """Open ``export``'s segment and check the columns it maps, reading no row: what a read
    would refuse at once is refused here too (a plan that reads its list first checks this
    before the read)."""
    segment, source = _lookup(config, export.segment)
    with open_reader(source, segment, config_dir) as reader:
        export_fields(export, segment.name, source.name, reader.columns)


def preview_segment(
    config: Config,
    segment_name: str,
    config_dir: Path,
    *,
    email_column: str | None = None,
    limit: int = 5,
) -> SegmentPreview:
    """Counts, columns and up to ``limit`` masked samples of a segment."""
    segment, source = _lookup(config, segment_name)
    with open_reader(source, segment, config_dir) as reader:
        column = _preview_email_column(config, segment, source, reader.columns, email_column)
        collector = _collect(reader, FieldMap(email=column), 50_000, max(limit, 0))
        columns = reader.columns
    found = collector.finish(materialise=False)
    return SegmentPreview(
        segment=segment.name,
        source=source.name,
        email_column=column,
        columns=columns,
        rows=found.rows,
        valid=found.valid,
        invalid=found.invalid,
        duplicates=found.duplicates,
        samples=found.valid_samples,
        invalid_samples=found.invalid_samples,
        duplicate_samples=found.duplicate_samples,
    )


@contextmanager
def open_reader(source: Source, segment: Segment, config_dir: Path) -> Iterator[SegmentReader]:
    """The running query of ``segment`` over ``source`` (files via DuckDB, or a database)."""
    if source.files and source.url:
        raise SourceError(segment.name, source.name, "the source has both files: and url:")
    if source.files:
        with open_files(source, segment, config_dir) as files:
            yield files
    elif source.url:
        from reconciler.sources.sql import open_sql  # SQLAlchemy only when a database is used

        with open_sql(source, segment, config_dir) as database:
            yield database
    else:
        raise SourceError(segment.name, source.name, "the source has neither files: nor url:")


def export_fields(export: Export, segment: str, source: str, columns: Sequence[str]) -> FieldMap:
    """The export's mapped columns resolved against the result; all missing ones in one error."""
    wanted = {"fields.email": export.fields.email}
    wanted |= {f"fields.{k}": v for k, v in export.fields.attribute_columns().items()}
    wanted |= {f"fields.properties.{k}": v for k, v in export.fields.properties.items()}
    if export.subscribe is not None:
        wanted["subscribe.consent_column"] = export.subscribe.consent_column
        if export.subscribe.consented_at_column is not None:
            wanted["subscribe.consented_at_column"] = export.subscribe.consented_at_column
    resolved = {key: find_column(columns, name) for key, name in wanted.items()}
    missing = [f"{key} -> '{wanted[key]}'" for key, found in resolved.items() if found is None]
    if missing:
        raise SourceError(
            segment,
            source,
            f"export '{export.name}' maps columns the segment does not return: "
            f"{', '.join(missing)}; the segment's columns are: {_shown(columns)}",
            hint=f"fix fields: (or subscribe:) of export '{export.name}' or return those "
            "columns from the "
            "segment (names match exactly, else case-insensitively)",
        )
    found = {key: str(value) for key, value in resolved.items()}
    return FieldMap(
        email=found["fields.email"],
        attributes={k: found[f"fields.{k}"] for k in export.fields.attribute_columns()},
        properties={k: found[f"fields.properties.{k}"] for k in export.fields.properties},
        phone_region=export.default_region,
        consent=found.get("subscribe.consent_column"),
        consented_at=found.get("subscribe.consented_at_column"),
    )


def find_column(columns: Sequence[str], name: str) -> str | None:
    """``name`` among ``columns``: the exact name, else its only case-insensitive match."""
    if name in columns:
        return name
    matches = [c for c in columns if c.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


def _collect(
    reader: SegmentReader, fields: FieldMap, batch_size: int, sample_limit: int
) -> SegmentCollector:
    collector = SegmentCollector(fields, sample_limit)
    for batch in reader.batches(fields.email, fields.extra_columns(), max(batch_size, 1)):
        collector.add(batch)
    return collector


def _lookup(config: Config, segment_name: str) -> tuple[Segment, Source]:
    segment = config.segments.get(segment_name)
    if segment is None:
        raise UnknownSegmentError(segment_name, config.segments)
    source = config.sources.get(segment.source)
    if source is None:
        raise SourceError(
            segment.name,
            segment.source,
            "the source is not declared",
            hint=f"declared sources: {', '.join(sorted(config.sources)) or '(none)'}",
        )
    return segment, source


def _preview_email_column(
    config: Config,
    segment: Segment,
    source: Source,
    columns: Sequence[str],
    requested: str | None,
) -> str:
    for export in config.exports.values():
        if requested is None and export.segment == segment.name:
            return export_fields(export, segment.name, source.name, columns).email
    name = requested or _guess_email_column(columns)
    found = find_column(columns, name) if name else None
    if found is None:
        what = f"no column {name!r}" if name else "no column named like 'email'"
        raise SourceError(
            segment.name,
            source.name,
            f"{what} among the segment's columns: {_shown(columns)}",
            hint="name the email column with --email-column",
        )
    return found


def _guess_email_column(columns: Sequence[str]) -> str | None:
    exact = find_column(columns, "email")
    if exact is not None:
        return exact
    return next((c for c in columns if "email" in c.lower().replace("_", "")), None)


def _shown(columns: Sequence[str]) -> str:
    shown = mask_emails_in(", ".join(columns[:_SHOWN_COLUMNS])) or "(none)"
    extra = len(columns) - _SHOWN_COLUMNS
    return f"{shown}, ... ({extra} more)" if extra > 0 else shown
