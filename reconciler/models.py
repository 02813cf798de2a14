"""Declarations: the pydantic models of every YAML ``kind``.

These models are the single source of truth: the JSON Schemas in ``schemas/`` are generated from
them (``python -m reconciler.config.schema --write``) and a test fails when the two disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PositiveInt, Tag, TypeAdapter

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
LIST_ID_PATTERN = r"^[A-Za-z0-9]{6}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
PERCENT_PATTERN = r"^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)%$"
ONE_CHAR_PATTERN = r"^[^\r\n]$"  # a CSV delimiter or quote: one character, not a line break

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="Unique name within its kind.")]


class Declaration(BaseModel):
    """Common settings: unknown keys are refused, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvRef(Declaration):
    """A reference to an environment variable holding a secret; never the secret itself."""

    env: str = Field(
        pattern=ENV_NAME_PATTERN,
        description="Name of the environment variable that holds the value.",
    )


class Consent(Declaration):
    """The data-privacy and compliance acknowledgement for sending profiles to Klaviyo."""

    accepted: bool = Field(description="Must be true for any export over this connection to run.")
    accepted_by: str | None = Field(
        default=None, description="Email or handle of the person who accepted the terms."
    )
    accepted_at: dt.date | None = Field(
        default=None, description="Date the terms were accepted (YYYY-MM-DD)."
    )


class ConnectionBase(Declaration):
    """What every connection declares, whatever its destination ``type``."""

    kind: Literal["Connection"] = Field(description="Document kind.")
    name: Name
    display_name: str | None = Field(default=None, description="Human-readable label.")
    usable_by: Literal["admins", "contributors"] = Field(
        default="admins",
        description="Who may add or change exports using this connection: admins only, "
        "or also contributors (see kind Access).",
    )
    consent: Consent | None = Field(
        default=None, description="Data-privacy and compliance acknowledgement."
    )


class KlaviyoConnection(ConnectionBase):
    """A Klaviyo account reached with a private API key."""

    type: Literal["klaviyo"] = Field(default="klaviyo", description="Destination type.")
    api_key: EnvRef = Field(description="Environment variable holding the private API key.")
    base_url: str | None = Field(
        default=None,
        description="API base URL; defaults to https://a.klaviyo.com. Plain http is only "
        "allowed to loopback addresses (the sandbox).",
    )


DEFAULT_CONNECTION_TYPE = "klaviyo"


def connection_type(value: object) -> str:
    """The ``type`` of a connection document or model (``klaviyo`` when left out)."""
    found = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return found if isinstance(found, str) else DEFAULT_CONNECTION_TYPE


# One member per destination type, tagged by ``type``: a new destination adds its model here.
Connection = Annotated[
    Annotated[KlaviyoConnection, Tag("klaviyo")],
    Discriminator(connection_type),
]


class Source(Declaration):
    """Where unified customer profiles live: local files (DuckDB) or a SQL database."""

    kind: Literal["Source"] = Field(description="Document kind.")
    name: Name
    files: dict[str, str] | None = Field(
        default=None,
        description="Table name -> path or glob (relative to the config directory) of CSV, "
        "Parquet or JSON Lines files, queried with embedded DuckDB.",
    )
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a database; the password comes from the environment "
        "variable named by ?password_env=NAME, never from the URL itself.",
    )
    encoding: str | None = Field(
        default=None,
        description="Character encoding of CSV files when not UTF-8 (for example latin-1).",
    )
    delimiter: str | None = Field(
        default=None,
        pattern=ONE_CHAR_PATTERN,
        description='Field separator of CSV files (one character, e.g. ";" or "\\t"); '
        "default ',' (tab for .tsv).",
    )
    quote: str | None = Field(
        default=None,
        pattern=ONE_CHAR_PATTERN,
        description="Quote character of CSV files (one character; doubled inside a quoted "
        "value); default '\"'.",
    )


class Segment(Declaration):
    """A set of profiles: a SQL query or a table of a source."""

    kind: Literal["Segment"] = Field(description="Document kind.")
    name: Name
    source: str = Field(description="Name of the Source to read from.")
    query: str | None = Field(
        default=None, description="SQL in the source's dialect returning one row per profile."
    )
    table: str | None = Field(default=None, description="Table (or view) holding the segment.")
    description: str | None = Field(default=None, description="What this segment is.")


class Fields(Declaration):
    """Which segment columns feed which Klaviyo profile fields."""

    email: str = Field(min_length=1, description="Column holding the email address (required).")
    first_name: str | None = Field(default=None, description="Column for first_name.")
    last_name: str | None = Field(default=None, description="Column for last_name.")
    phone_number: str | None = Field(default=None, description="Column for phone_number.")
    external_id: str | None = Field(default=None, description="Column for external_id.")
    organization: str | None = Field(default=None, description="Column for organization.")
    title: str | None = Field(default=None, description="Column for title.")
    locale: str | None = Field(default=None, description="Column for locale.")
    properties: dict[str, str] = Field(
        default_factory=dict,
        description="Custom profile property name -> column.",
    )

    @classmethod
    def attribute_names(cls) -> tuple[str, ...]:
        """The profile attributes a column may feed (every field but email and properties)."""
        return tuple(k for k in cls.model_fields if k not in ("email", "properties"))

    def attribute_columns(self) -> dict[str, str]:
        """Klaviyo attribute -> column for every mapped field except email and properties."""
        skip = {"email", "properties"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}


class Limits(Declaration):
    """Safety guards of an export; crossing one blocks it unless forced."""

    max_profiles: PositiveInt = Field(
        default=100_000, description="Most profiles the segment may hold (default 100000)."
    )
    max_removals: PositiveInt | Annotated[str, Field(pattern=PERCENT_PATTERN)] = Field(
        default="30%",
        description="Most removals per run: a count, or a percentage of the current list "
        "(applied once the list has at least 10 members). Default 30%.",
    )
    allow_empty: bool = Field(
        default=False, description="Allow an empty segment to empty a non-empty list."
    )


class Subscribe(Declaration):
    """Consent subscriptions: which rows are subscribed to which channels, and on what grounds.

    Only rows whose ``consent_column`` is true are subscribed, and never a profile whose
    unsubscribe or suppression is newer than its consent (without ``consented_at_column``: never
    one that is unsubscribed or suppressed at all). Removing a member never unsubscribes anyone.
    """

    channels: list[Literal["email", "sms"]] = Field(
        min_length=1, description="Channels to subscribe consenting rows to: email and/or sms."
    )
    consent_column: str = Field(
        min_length=1, description="Column that is true for rows that gave marketing consent."
    )
    consented_at_column: str | None = Field(
        default=None,
        description="Column with the moment of consent (required with historical_import).",
    )
    historical_import: bool = Field(
        default=False,
        description="true: the consent was collected elsewhere and in the past; Klaviyo sends "
        "no double opt-in message and runs no 'added to list' flows.",
    )


class Export(Declaration):
    """Keep one Klaviyo list equal to (or a superset of) one segment."""

    kind: Literal["Export"] = Field(description="Document kind.")
    name: Name
    segment: str = Field(description="Name of the Segment to export.")
    connection: str = Field(description="Name of the Connection (Klaviyo account).")
    list_id: str = Field(
        pattern=LIST_ID_PATTERN, description="Klaviyo list id: six letters or digits."
    )
    fields: Fields = Field(description="Segment columns -> Klaviyo profile fields.")
    mode: Literal["mirror", "add_only"] = Field(
        default="mirror",
        description="mirror adds and removes members; add_only never removes.",
    )
    enabled: bool = Field(default=True, description="Disabled exports are validated, not run.")
    schedule: str | None = Field(
        default=None,
        description="Cron expression; 'apply --due' runs the export only when it is due.",
    )
    limits: Limits = Field(default_factory=Limits, description="Safety guards.")
    subscribe: Subscribe | None = Field(
        default=None, description="Consent subscriptions (email and/or sms) for consenting rows."
    )
    external_removals: Literal["respect", "readd"] = Field(
        default="respect",
        description="Members who left the list outside the reconciler (unsubscribed from a "
        "list campaign, deleted, removed by a user, merged): respect never re-adds them while "
        "they stay out; readd adds them again.",
    )
    null_values: Literal["skip", "clear"] = Field(
        default="skip",
        description="skip: empty and null values are never sent (they never overwrite a value "
        "in Klaviyo); clear: they are sent as null and clear the profile's value.",
    )
    description: str | None = Field(default=None, description="What this export is for.")
    default_region: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="Region (ISO 3166 code, e.g. DE) of fields.phone_number values written "
        "without a country code; numbers are sent in E.164 form (+491512345678).",
    )


class Access(Declaration):
    """Who may change what: admins change connections, Access and admin-only exports."""

    kind: Literal["Access"] = Field(description="Document kind.")
    name: Name | None = Field(default=None, description="Optional name.")
    admins: list[str] = Field(default_factory=list, description="Emails or handles of admins.")
    contributors: list[str] = Field(
        default_factory=list, description="Emails or handles of contributors."
    )


NotifyEvent = Literal["failed", "partial", "blocked", "interrupted", "volume"]
Threshold = PositiveInt | Annotated[str, Field(pattern=PERCENT_PATTERN)]


def _default_events() -> list[NotifyEvent]:
    return ["failed", "partial", "blocked", "interrupted"]


class Volume(Declaration):
    """When a run's changes are large enough to tell someone (event ``volume``)."""

    removals: Threshold | None = Field(
        default=None,
        description="Notify when an export removes more than this: a count, or a percentage of "
        "the list before the run.",
    )
    adds: Threshold | None = Field(
        default=None,
        description="Notify when an export adds more than this: a count, or a percentage of "
        "the list before the run.",
    )


class Notification(Declaration):
    """A Slack-compatible webhook told after ``apply`` when a run needs attention."""

    kind: Literal["Notification"] = Field(description="Document kind.")
    name: Name
    webhook: EnvRef = Field(
        description="Environment variable holding the webhook URL (a secret: never in the file)."
    )
    on: list[NotifyEvent] = Field(
        default_factory=_default_events,
        min_length=1,
        description="Which runs to notify about: failed, partial, blocked, interrupted, and "
        "volume (changes over the `volume` thresholds).",
    )
    volume: Volume = Field(default_factory=Volume, description="Thresholds of the volume event.")
    exports: list[str] | None = Field(
        default=None, description="Only runs of these exports (default: every export)."
    )


KINDS: dict[str, TypeAdapter[Declaration]] = {
    "Connection": TypeAdapter(Connection),
    "Source": TypeAdapter(Source),
    "Segment": TypeAdapter(Segment),
    "Export": TypeAdapter(Export),
    "Access": TypeAdapter(Access),
    "Notification": TypeAdapter(Notification),
}


class Config(BaseModel):
    """All declarations of a config directory, validated, keyed by name."""

    model_config = ConfigDict(frozen=True)

    connections: dict[str, Connection] = Field(default_factory=dict)
    sources: dict[str, Source] = Field(default_factory=dict)
    segments: dict[str, Segment] = Field(default_factory=dict)
    exports: dict[str, Export] = Field(default_factory=dict)
    access: Access | None = None
    notifications: dict[str, Notification] = Field(default_factory=dict)
    origins: dict[str, str] = Field(
        default_factory=dict,
        description="'Kind/name' -> 'file:line' where the declaration starts.",
    )

    def enabled_exports(self) -> list[Export]:
        return [e for e in self.exports.values() if e.enabled]
