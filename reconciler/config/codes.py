"""Stable problem codes of ``reconciler validate``: one table, documented in the README.

Codes never change meaning; new checks get new codes. ``R`` codes are errors (exit code 1),
``W`` codes are warnings (never change the exit code).
"""

from __future__ import annotations

from typing import Final

# YAML and file level
YAML_SYNTAX: Final = "R001"
DUPLICATE_KEY: Final = "R002"
ENCODING: Final = "R003"
TOO_LARGE: Final = "R004"
EMPTY: Final = "R005"
UNSUPPORTED_YAML: Final = "R006"
NO_CONFIG: Final = "R007"
# document shape (JSON Schema)
BAD_KIND: Final = "R010"
UNKNOWN_KEY: Final = "R011"
MISSING_KEY: Final = "R012"
WRONG_TYPE: Final = "R013"
INVALID_VALUE: Final = "R014"
# rules beyond the schema
DUPLICATE_NAME: Final = "R020"
UNRESOLVED_REFERENCE: Final = "R021"
SAME_LIST: Final = "R022"
CONSENT: Final = "R023"
LITERAL_SECRET: Final = "R024"
SOURCE_SHAPE: Final = "R025"
SEGMENT_SHAPE: Final = "R026"
URL_PASSWORD: Final = "R027"
BAD_SCHEDULE: Final = "R028"
INSECURE_BASE_URL: Final = "R029"
MULTIPLE_ACCESS: Final = "R030"
MISSING_COLUMNS: Final = "R031"  # validate --sources
SOURCE_UNREADABLE: Final = "R032"  # validate --sources
BAD_ENCODING: Final = "R033"
CSV_DIALECT: Final = "R034"
NOTIFY_VOLUME: Final = "R035"
UNKNOWN_REGION: Final = "R036"
SUBSCRIBE_SHAPE: Final = "R040"
# warnings
EXPORT_DISABLED: Final = "W001"
CONNECTION_UNUSED: Final = "W002"

CODES: Final[dict[str, str]] = {
    YAML_SYNTAX: "YAML syntax error",
    DUPLICATE_KEY: "a key appears twice in one mapping",
    ENCODING: "file is not UTF-8 text (binary, NUL bytes, UTF-16, invalid bytes)",
    TOO_LARGE: "a size bound is exceeded: file over 1 MiB, too many documents, alias "
    "expansion, nesting depth",
    EMPTY: "file holds no YAML document",
    UNSUPPORTED_YAML: "YAML feature not allowed: non-string key, custom tag, recursive alias",
    NO_CONFIG: "config directory missing, unreadable or without any *.yaml / *.yml file",
    BAD_KIND: "document is not a mapping, or its `kind` is missing or unknown",
    UNKNOWN_KEY: "unknown key (typo?); the hint suggests the closest known key",
    MISSING_KEY: "a required key is missing",
    WRONG_TYPE: "a value has the wrong type (for example text where a list is expected)",
    INVALID_VALUE: "a value is not allowed (pattern, choice, range, date format)",
    DUPLICATE_NAME: "two declarations of one kind share a name",
    UNRESOLVED_REFERENCE: "a reference (segment, connection, source) names nothing declared",
    SAME_LIST: "two enabled exports write to the same list of the same connection",
    CONSENT: "a connection used by an enabled export lacks accepted consent",
    LITERAL_SECRET: "a literal Klaviyo private API key (pk_...) is in a file",
    SOURCE_SHAPE: "a Source needs exactly one of `files` / `url`",
    SEGMENT_SHAPE: "a Segment needs exactly one of `query` / `table`",
    URL_PASSWORD: "a Source `url` embeds a password",
    BAD_SCHEDULE: "`schedule` is not a valid 5-field cron expression",
    INSECURE_BASE_URL: "a connection `base_url` is not https (plain http only to loopback)",
    MULTIPLE_ACCESS: "more than one Access document",
    MISSING_COLUMNS: "`validate --sources`: an export maps a column its segment does not return",
    SOURCE_UNREADABLE: "`validate --sources`: the segment's source cannot be opened or queried",
    BAD_ENCODING: "a Source `encoding` is not a character set (unknown, or a codec such as "
    "base64 or rot13)",
    CSV_DIALECT: "a Source `delimiter` / `quote` is unusable: both the same character, or set "
    "on a `url` source",
    NOTIFY_VOLUME: "a Notification is on `volume` without any volume threshold",
    UNKNOWN_REGION: "an Export `default_region` is not a region phone numbers are known for",
    SUBSCRIBE_SHAPE: "`subscribe:` lacks what it needs (consented_at_column for "
    "historical_import, fields.phone_number for sms)",
    EXPORT_DISABLED: "warning: an export is disabled (validated, never run)",
    CONNECTION_UNUSED: "warning: no export uses this connection",
}


def markdown_table() -> str:
    """The code table as markdown, for the README."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning} |" for code, meaning in CODES.items()]
    return "\n".join(rows)
