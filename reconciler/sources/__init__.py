"""Segment sources: read a segment's rows from files (embedded DuckDB) or a SQL database.

``read_segment`` streams an export's segment into valid, normalised, deduplicated emails (and
the extra fields the export maps) with counts, masked samples and a content fingerprint;
``preview_segment`` reports the same counts for people (``reconciler segments preview``).
"""

from reconciler.sources.data import SegmentData, SegmentPreview
from reconciler.sources.fingerprint import segment_fingerprint
from reconciler.sources.segment import (
    UnknownSegmentError,
    check_segment,
    open_reader,
    preview_segment,
    read_segment,
)

__all__ = [
    "SegmentData",
    "SegmentPreview",
    "UnknownSegmentError",
    "check_segment",
    "open_reader",
    "preview_segment",
    "read_segment",
    "segment_fingerprint",
]
