"""Plain values the engine and a destination exchange (no destination's own types).

A destination adapter (``reconciler.klaviyo.destination``) returns these; the engine, its
stages and the plan read them. Dataclasses, not models: a million members must parse fast.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import mask_text
from reconciler.spill import SpilledStrings

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# "gone": the destination no longer knows the job (Klaviyo: 404 once it expired); what it did
# cannot be read any more
GONE = "gone"
FINISHED_STATES: frozenset[str] = frozenset({"complete", "cancelled", GONE})


@dataclass(frozen=True)
class Rate:
    """Allowed requests per burst window (1 s) and per steady window (60 s)."""

    burst: int
    steady: int


@dataclass(frozen=True)
class ImportRate:
    """Profiles per second a destination processes imports at: a low and a high figure, for
    a destination that does not publish its rate (an assumption, stated as a range)."""

    low: float
    high: float


@dataclass(frozen=True)
class DestinationFacts:
    """What a destination declares about itself: the plan estimates calls and seconds from
    it, the stages size their slices by it."""

    job_size: int  # profiles per import job
    remove_chunk: int  # profile ids per removal call
    page_size: int  # members per page of a list read
    write_rate: Rate  # the tier of import jobs and removals
    read_rate: Rate  # the tier of member reads
    slice_calls: int = 10  # calls one slice of an apply makes (a stop is honoured between)
    subscribe_size: int = 1_000  # profiles per subscription job
    subscribe_rate: Rate | None = None  # the tier of subscription jobs (None: write_rate)
    lookup_size: int = 100  # profiles per subscription-state lookup
    import_rate: ImportRate | None = None  # import processing (None: not counted)


@dataclass(frozen=True, slots=True)
class ListInfo:
    """A list's id and name, its member count if it was asked for, and when it was created
    (if the read said)."""

    id: str
    name: str
    profile_count: int | None = None
    created: dt.datetime | None = None


@dataclass(frozen=True)
class ListMembers:
    """A list's members as aligned Arrow columns: emails (lower-cased), profile ids, and
    ``joined_us`` (when each joined the list: int64 microseconds since the epoch, UTC).

    Members without an email (SMS-only profiles) are not rows: ``without_email`` counts them
    and ``newest_without_email_us`` is the latest of their join times (None without any).
    """

    emails: pa.ChunkedArray  # strings
    profile_ids: pa.ChunkedArray | SpilledStrings  # strings (a large read's: spilled)
    joined_us: pa.ChunkedArray  # int64
    without_email: int = 0
    newest_without_email_us: int | None = None

    @property
    def count(self) -> int:
        """Members with an email (rows)."""
        return len(self.emails)

    @property
    def total(self) -> int:
        """Every member read, with or without an email (what ``profile_count`` counts)."""
        return len(self.emails) + self.without_email

    @property
    def newest_us(self) -> int | None:
        """The latest join time of any member read (None for an empty read)."""
        times = [t for t in (_max(self.joined_us), self.newest_without_email_us) if t is not None]
        return max(times, default=None)


def _max(values: pa.ChunkedArray) -> int | None:
    if len(values) == 0:
        return None
    newest: int = pc.max(values).as_py()
    return newest


@dataclass(frozen=True, slots=True)
class ProfileInput:
    """A profile to import: email plus optional standard attributes and custom properties."""

    email: str
    attributes: Mapping[str, object] = field(default_factory=dict)
    properties: Mapping[str, object] = field(default_factory=dict)


JSON_META = {b"json": b"1"}  # the metadata of a column of JSON texts (see ProfileRows)
CLEARED = "cleared:"  # the prefix of ProfileRows' "sent as null" columns
_PROPERTIES = "properties."


@dataclass(frozen=True)
class ProfileRows:
    """Profiles to import as Arrow columns: ``email``; one column per field key
    (``first_name``, ``properties.tier``; null: not sent), JSON text where the column's field
    metadata is :data:`JSON_META`; and ``cleared:<key>`` flags (true: the key is sent as null).
    :meth:`inputs` makes Python values of a few rows at a time."""

    table: pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @property
    def keys(self) -> list[str]:
        return [n for n in self.table.column_names if n != "email" and not n.startswith(CLEARED)]

    @property
    def emails(self) -> pa.ChunkedArray:
        return self.table["email"]

    def attribute_names(self) -> set[str]:
        return {k for k in self.keys if not k.startswith(_PROPERTIES)}

    def inputs(self, start: int = 0, length: int | None = None) -> list[ProfileInput]:
        """Rows ``start`` .. ``start + length`` as ProfileInputs: attributes in column order,
        custom properties nested, nulls left out unless cleared."""
        part = self.table.slice(start, length)
        emails: list[str] = part["email"].to_pylist()
        attributes: list[dict[str, object]] = [{} for _ in emails]
        properties: list[dict[str, object]] = [{} for _ in emails]
        for key in self.keys:
            values = _column_values(part, key)
            flag = CLEARED + key
            cleared = part[flag].to_pylist() if flag in part.column_names else None
            custom = key.startswith(_PROPERTIES)
            name = key.removeprefix(_PROPERTIES) if custom else key
            targets = properties if custom else attributes
            for i, value in enumerate(values):
                if value is not None or (cleared is not None and cleared[i]):
                    targets[i][name] = value
        return [
            ProfileInput(e, a or _NOTHING, p or _NOTHING)
            for e, a, p in zip(emails, attributes, properties, strict=True)
        ]


_NOTHING: Mapping[str, object] = MappingProxyType({})


ARROW_TYPES: Mapping[type, pa.DataType] = MappingProxyType(
    {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
)


def plain_array(values: Sequence[object], kind: type | None = None) -> pa.Array | None:
    """``values`` as one Arrow array when every one that is not None is of one plain type
    (text, integer, float, boolean; the same as ``kind``, a column's type so far, if given);
    an all-null array when all are None. None: mixed or other types, or an integer beyond 64
    bits."""
    kinds = {v.__class__ for v in values if v is not None}
    found = next(iter(kinds), kind) if len(kinds) <= 1 else None
    if len(kinds) > 1 or (
        found is not None and (found not in ARROW_TYPES or kind not in (None, found))
    ):
        return None
    try:
        return pa.array(values, type=pa.null() if found is None else ARROW_TYPES[found])
    except (pa.ArrowException, OverflowError):
        return None


def value_array(values: list[object]) -> tuple[pa.Array, bool]:
    """``values`` (JSON data, None: null) as one Arrow column: of their type when they share
    one plain type (False), else their JSON text (True: the column's field says ``json``)."""
    plain = plain_array(values)
    if plain is not None:
        return (pa.nulls(len(values), pa.string()) if plain.type == pa.null() else plain), False
    texts = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    return pa.array(texts, type=pa.string()), True


def _column_values(part: pa.Table, key: str) -> list[object]:
    values: list[object] = part[key].to_pylist()
    field_ = part.schema.field(key)
    if field_.metadata and field_.metadata.get(b"json") == b"1":
        return [None if v is None else json.loads(str(v)) for v in values]
    return values


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """A profile the destination (or the client's own check) refused, with the reason.

    The reason is server text and may quote the profile's address or phone number: it is
    masked here, where it becomes our value, before any message, journal or rendering sees it.
    """

    email: str
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", mask_text(self.reason))


@dataclass(frozen=True)
class ImportSubmission:
    """The ids of the jobs one import call created and the profiles rejected on the way
    (refused by the client's own check, or named by a 400)."""

    job_ids: tuple[str, ...] = ()
    rejected: tuple[ImportFailure, ...] = ()


@dataclass(frozen=True, slots=True)
class JobStatus:
    """An import job's progress, as last polled."""

    job_id: str
    status: str
    total: int
    completed: int
    failed: int

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATES

    @property
    def gone(self) -> bool:
        """The destination no longer knows the job (it expired)."""
        return self.status == GONE


@dataclass(frozen=True, slots=True)
class JobResult:
    job_id: str
    status: str
    total: int
    completed: int
    failed: int
    errors: list[ImportFailure] = field(default_factory=list)

    @property
    def gone(self) -> bool:
        """The destination no longer knows the job (it expired)."""
        return self.status == GONE


@dataclass(frozen=True, slots=True)
class SettledJobs:
    """Import jobs a plan waited for: the ids now finished (``gone`` among them: the ones the
    destination no longer knows, e.g. expired; what they did shows in the list read).
    ``credited``: the finished jobs among those an earlier run left pending (not gone), and
    ``completed`` the profiles they imported (the run that saw them finish credits them)."""

    finished: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()
    credited: tuple[str, ...] = ()
    completed: int = 0


@dataclass(frozen=True)
class DestinationSettings:
    """What a run tells every adapter it opens: the environment the credentials come from,
    a base URL overriding the connection's (the sandbox), and the sandbox's time scale.

    ``run_shared`` holds what the adapters of one run share, and only that run (the Klaviyo
    adapter keeps its pacer registry there: clients of one account pace together): a run
    creates one settings object, so a new run starts with nothing shared."""

    env: Mapping[str, str] = field(default_factory=dict)
    base_url: str | None = None
    time_scale: float = 1.0
    job_timeout: float | None = None  # seconds to wait for import jobs started elsewhere
    max_wait: float = 120.0  # seconds: the longest single wait before a retry
    run_shared: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


Channel = Literal["email", "sms"]


@dataclass(frozen=True, slots=True)
class ChannelConsent:
    """One channel's marketing consent of a profile, as the destination reports it.

    ``consent``: SUBSCRIBED, UNSUBSCRIBED or NEVER_SUBSCRIBED; ``changed_at``: when it was
    recorded; ``suppressed_at``: the newest suppression that a subscription would lift or that
    a person chose (unsubscribe, spam complaint, a user's suppression), None without one."""

    consent: str
    changed_at: dt.datetime | None = None
    suppressed_at: dt.datetime | None = None
    suppression: str | None = None  # its reason

    @property
    def subscribed(self) -> bool:
        return self.consent == "SUBSCRIBED" and self.suppressed_at is None

    def opted_out_at(self) -> dt.datetime | None:
        """The moment this profile chose not to get marketing on the channel (an unsubscribe
        or a suppression), None if it never did."""
        moments = [m for m in (self.suppressed_at,) if m is not None]
        if self.consent == "UNSUBSCRIBED":
            moments.append(self.changed_at or EPOCH)
        return max(moments, default=None)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A profile to subscribe: its email, the channels, its phone number for sms, and the
    moment of consent (sent only for a historical import)."""

    email: str
    channels: tuple[Channel, ...]
    phone_number: str | None = None
    consented_at: dt.datetime | None = None
