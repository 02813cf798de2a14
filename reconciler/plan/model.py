"""The plan: a frozen value computed from the config, the segment rows and the list state.

A plan holds, per export, the exact emails to add (with the profile fields to send) and the exact
members to remove (email and profile id), the safety guards evaluated on them, and fingerprints of
the three inputs so that ``apply PLANFILE`` can refuse a stale plan. The members are Arrow tables
(:mod:`reconciler.plan.rows`): ``add``, ``remove``, ``remove_ids`` and ``update`` are read-only
sequence views of their columns. Only the plan file written with ``plan --out`` holds
addresses; every rendering shows counts and masked samples.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

from reconciler.plan.rows import Emails, MemberRows

PLAN_FORMAT_VERSION = 2

ChangeAction = Literal["added", "removed", "enabled", "disabled", "changed"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Estimate(Frozen):
    """API calls an apply will make and how long it takes: ``seconds`` is the minimum Klaviyo's
    rate tiers allow plus the import processing at the fastest assumed rate, ``seconds_high``
    the same at the slowest (None: no import processing counted, e.g. nothing to import)."""

    calls: int
    seconds: float
    seconds_high: float | None = None


class GuardResult(Frozen):
    """One safety guard evaluated on an export's change."""

    name: Literal["max_profiles", "max_removals", "allow_empty", "consent"]
    tripped: bool
    message: str
    forced: bool = False


class Fingerprints(Frozen):
    """Digests of the three inputs of an export's plan (no addresses)."""

    config: str
    segment: str
    list: str


def _rows(value: object) -> MemberRows:
    if isinstance(value, MemberRows):
        return value
    raise ValueError("member rows are read from a plan file's columns, not from JSON")


# In JSON (the plan file's header) a kind of change is its row count; its rows are columns.
Rows = Annotated[
    MemberRows,
    PlainValidator(_rows),
    PlainSerializer(lambda rows: {"rows": len(rows)}, return_type=dict, when_used="json"),
]
ROW_KINDS = ("adds", "updates", "removes")


class ExportPlan(Frozen):
    """The change for one export; ``error`` set means it could not be planned.

    ``adds``, ``updates``, ``removes``: the members, one table per kind (see
    :mod:`reconciler.plan.rows`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    connection: str
    list_id: str
    mode: Literal["mirror", "add_only"]
    account: str = ""
    list_name: str = ""
    adds: Rows = Field(default_factory=MemberRows.empty)
    removes: Rows = Field(default_factory=lambda: MemberRows.removals((), ()))
    unchanged: int = 0
    current: int = 0
    desired: int = 0
    rows: int = 0
    invalid: int = 0
    duplicates: int = 0
    invalid_samples: tuple[str, ...] = ()
    kept_invalid: int = 0  # members not removed: the segment holds them, our validator refused
    invalid_phones: int = 0  # rows whose phone_number was dropped (not a possible number)
    invalid_phone_samples: tuple[str, ...] = ()  # masked
    guards: tuple[GuardResult, ...] = ()
    estimate: Estimate = Estimate(calls=0, seconds=0.0)
    fingerprints: Fingerprints | None = None
    incremental: bool = False
    # segment members who left the list outside the reconciler (not re-added): count, masked
    left_outside: int = 0
    readd: tuple[str, ...] = ()  # of ``add``: members who left outside, re-added (once)
    left_outside_samples: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None
    # import jobs an earlier (interrupted) run left pending, seen finished while planning:
    # the profiles they imported, credited to the apply's ``added``, and their ids
    credited: int = 0
    credited_jobs: tuple[str, ...] = ()
    # fields kept current: members whose mapped values changed since they were last sent
    field_keys: tuple[str, ...] = ()  # the mapped field keys ("first_name", "properties.tier")
    updates: Rows = Field(default_factory=MemberRows.empty)
    updated_fields: dict[str, int] = Field(default_factory=dict)  # field key -> members changed
    null_values: Literal["skip", "clear"] = "skip"
    # consent subscriptions (subscribe:)
    subscribe: tuple[str, ...] = ()
    subscribe_channels: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # email -> ch.
    subscribe_phones: dict[str, str] = Field(default_factory=dict)
    subscribe_consented_at: dict[str, str] = Field(default_factory=dict)  # ISO, historical only
    historical_import: bool = False
    already_subscribed: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    subscribe_skipped: dict[str, int] = Field(default_factory=dict)  # reason -> profiles
    subscribe_skipped_samples: tuple[str, ...] = ()  # masked

    @property
    def add(self) -> Emails:
        return self.adds.emails

    @property
    def remove(self) -> Emails:
        return self.removes.emails

    @property
    def remove_ids(self) -> Emails:
        return self.removes.profile_ids

    @property
    def update(self) -> Emails:
        return self.updates.emails

    @property
    def blocked(self) -> bool:
        return self.error is not None or any(g.tripped and not g.forced for g in self.guards)

    @property
    def reasons(self) -> list[str]:
        found = [g.message for g in self.guards if g.tripped and not g.forced]
        return ([self.error] if self.error else []) + found

    @property
    def forced_guards(self) -> list[str]:
        return [g.name for g in self.guards if g.tripped and g.forced]

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.remove or self.update or self.subscribe)


class ConfigChange(Frozen):
    """A declaration added, removed, enabled, disabled or changed since the git base."""

    kind: str
    name: str
    action: ChangeAction
    details: tuple[str, ...] = ()


class Plan(Frozen):
    """Everything ``apply`` needs; ``checksum`` covers all other fields."""

    version: int = PLAN_FORMAT_VERSION
    created_at: dt.datetime
    config_dir: str
    exports: tuple[ExportPlan, ...]
    config_changes: tuple[ConfigChange, ...] = ()
    base: str | None = None
    forced: bool = False
    checksum: str = ""

    @property
    def has_changes(self) -> bool:
        return any(e.has_changes and not e.blocked for e in self.exports)

    @property
    def has_blocked(self) -> bool:
        return any(e.blocked for e in self.exports)
