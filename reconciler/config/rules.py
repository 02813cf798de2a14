"""Rules a JSON Schema cannot express, checked on the validated declarations (all collected)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from croniter import CroniterBadDateError, CroniterError, croniter

from reconciler.config import codes
from reconciler.config.build import Declared
from reconciler.config.schemacheck import did_you_mean
from reconciler.config.secrets import has_password
from reconciler.errors import Problem, Severity
from reconciler.loopback import is_loopback
from reconciler.models import (
    ConnectionBase,
    Export,
    KlaviyoConnection,
    Notification,
    Segment,
    Source,
)
from reconciler.sources.filesets import text_codec
from reconciler.sources.phones import SUPPORTED_REGIONS


def _problem(
    item: Declared,
    path: tuple[str, ...],
    code: str,
    message: str,
    hint: str = "",
    severity: Severity = "error",
) -> Problem:
    mark = item.document.at(path)
    return Problem(item.document.file, mark.line, mark.column, code, message, hint, severity)


def check_rules(declared: list[Declared], *, complete: bool) -> list[Problem]:
    """Every rule problem; cross-file rules need every file read (``complete``)."""
    valid = [item for item in declared if item.model is not None]
    problems = [p for item in valid for p in _local_rules(item)]
    problems += list(_same_list(valid))
    problems += list(_consent(valid))
    if complete:
        problems += list(_references(declared, valid))
        problems += list(_unused_connections(declared, valid))
    return problems


def _local_rules(item: Declared) -> Iterator[Problem]:
    model = item.model
    if isinstance(model, Source):
        yield from _source_rules(item, model)
    elif isinstance(model, Segment):
        yield from _segment_rules(item, model)
    elif isinstance(model, Export):
        yield from _export_rules(item, model)
    elif isinstance(model, KlaviyoConnection) and model.base_url is not None:
        yield from _base_url_rule(item, model.base_url)
    elif isinstance(model, Notification):
        yield from _notification_rules(item, model)


def _notification_rules(item: Declared, notification: Notification) -> Iterator[Problem]:
    volume = notification.volume
    if "volume" in notification.on and volume.removals is None and volume.adds is None:
        yield _problem(
            item,
            ("on",),
            codes.NOTIFY_VOLUME,
            f"Notification `{notification.name}` is on `volume` but sets no volume threshold",
            'add `volume: {removals: "10%", adds: "50%"}` (a count or a percentage)',
        )


def _source_rules(item: Declared, source: Source) -> Iterator[Problem]:
    shape = _exactly_one(
        item,
        source,
        codes.SOURCE_SHAPE,
        ("files", "url"),
        "give exactly one: `files: {table: path}` for local files, or `url:` for a database",
    )
    if shape is not None:
        yield shape
    elif source.files is not None and not source.files:
        yield _problem(
            item,
            ("files",),
            codes.SOURCE_SHAPE,
            "`files` lists no table",
            "map a table name to a file path, e.g. `files: {profiles: data/profiles.csv}`",
        )
    yield from _source_file_rules(item, source)
    if source.url is not None and _url_has_password(source.url):
        yield _problem(
            item,
            ("url",),
            codes.URL_PASSWORD,
            "the Source `url` embeds a password",
            "remove it from the URL and add `?password_env=NAME` naming an environment variable",
        )


def _source_file_rules(item: Declared, source: Source) -> Iterator[Problem]:
    """``encoding``, ``delimiter`` and ``quote``: usable, and only where files are read."""
    if source.encoding is not None and text_codec(source.encoding) is None:
        yield _problem(
            item,
            ("encoding",),
            codes.BAD_ENCODING,
            f"`encoding` {source.encoding!r} is not a character set of text files",
            "use a character set such as utf-8, latin-1, cp1252 or utf-16",
        )
    if source.delimiter is not None and source.delimiter == (source.quote or '"'):
        yield _problem(
            item,
            ("delimiter",),
            codes.CSV_DIALECT,
            "`delimiter` and `quote` are the same character",
            'give the separator and the quote character different values, e.g. `delimiter: ";"`',
        )
    for key in ("delimiter", "quote"):
        if source.url is not None and getattr(source, key) is not None:
            yield _problem(
                item,
                (key,),
                codes.CSV_DIALECT,
                f"`{key}` applies to CSV files, but this Source reads a database (`url`)",
                f"remove `{key}`",
            )


def _url_has_password(url: str) -> bool:
    """A password anywhere in the URL: user info, ``?password=``, or inside the database part
    (libpq reads a database name holding ``password=...`` or a URL as connection settings)."""
    if has_password(url) or has_password(unquote(url)):
        return True
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
    except ValueError:
        return False
    return bool(parts.password) or "password" in {k.lower() for k in query}


def _segment_rules(item: Declared, segment: Segment) -> Iterator[Problem]:
    hint = "give exactly one: `query: SELECT ...` or `table: name`"
    shape = _exactly_one(item, segment, codes.SEGMENT_SHAPE, ("query", "table"), hint)
    if shape is not None:
        yield shape


def _export_rules(item: Declared, export: Export) -> Iterator[Problem]:
    region = export.default_region
    if region is not None and region not in SUPPORTED_REGIONS:
        yield _problem(
            item,
            ("default_region",),
            codes.UNKNOWN_REGION,
            f"`default_region` {region!r} is not a region phone numbers are known for",
            "use an ISO 3166 two-letter code such as DE, FR, GB or US",
        )
    if export.schedule is not None and not _valid_cron(export.schedule):
        yield _problem(
            item,
            ("schedule",),
            codes.BAD_SCHEDULE,
            "`schedule` is not a valid 5-field cron expression",
            'five fields: minute hour day-of-month month day-of-week, e.g. "0 */6 * * *"',
        )
    elif export.schedule is not None and _never_fires(export.schedule):
        yield _problem(
            item,
            ("schedule",),
            codes.BAD_SCHEDULE,
            f"`schedule` '{export.schedule}' is never due: no date matches it",
            "check the day of month against the month (February has no 30th); "
            'e.g. "0 0 28 2 *" for February 28th',
        )
    if export.subscribe is not None:
        yield from _subscribe_rules(item, export)
    if not export.enabled:
        yield _problem(
            item,
            ("enabled",),
            codes.EXPORT_DISABLED,
            f"export `{export.name}` is disabled: it is validated but never planned or applied",
            "set `enabled: true` to run it",
            "warning",
        )


def _subscribe_rules(item: Declared, export: Export) -> Iterator[Problem]:
    subscribe = export.subscribe
    assert subscribe is not None
    if subscribe.historical_import and subscribe.consented_at_column is None:
        yield _problem(
            item,
            ("subscribe", "historical_import"),
            codes.SUBSCRIBE_SHAPE,
            "`historical_import: true` needs `consented_at_column`: Klaviyo requires the "
            "moment of consent for a historical import",
            "add `consented_at_column: <column with the consent time>` to `subscribe:`",
        )
    if "sms" in subscribe.channels and export.fields.phone_number is None:
        yield _problem(
            item,
            ("subscribe", "channels"),
            codes.SUBSCRIBE_SHAPE,
            "subscribing to `sms` needs a phone number, but `fields.phone_number` is not mapped",
            "map the phone column: `fields: {phone_number: <column>}`, or drop `sms`",
        )


def _never_fires(expression: str) -> bool:
    """True for a valid expression no date matches (``0 0 30 2 *``: February 30th)."""
    try:
        croniter(expression, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except CroniterBadDateError:
        return True
    except (CroniterError, ValueError, TypeError, KeyError, OverflowError):
        return False
    return False


def _valid_cron(expression: str) -> bool:
    if len(expression.split()) != 5:
        return False
    try:
        return bool(croniter.is_valid(expression))
    except (ValueError, TypeError, KeyError, OverflowError):
        return False


def _base_url_rule(item: Declared, base_url: str) -> Iterator[Problem]:
    try:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if parts is not None and host and parts.scheme == "https":
        return
    if parts is not None and host and parts.scheme == "http" and is_loopback(host):
        return
    yield _problem(
        item,
        ("base_url",),
        codes.INSECURE_BASE_URL,
        "`base_url` must be an https:// URL (plain http only to a loopback address)",
        "use https://a.klaviyo.com (the default) or http://127.0.0.1:PORT for the sandbox",
    )


def _same_list(valid: list[Declared]) -> Iterator[Problem]:
    first: dict[tuple[str, str], Declared] = {}
    for item in valid:
        export = item.model
        if not isinstance(export, Export) or not export.enabled:
            continue
        key = (export.connection, export.list_id)
        if key in first:
            other = first[key]
            yield _problem(
                item,
                ("list_id",),
                codes.SAME_LIST,
                f"export `{export.name}` writes to list {export.list_id} of connection "
                f"`{export.connection}`, like export `{other.name}` at {other.origin}",
                "two exports of one list would undo each other: use another list or disable one",
            )
        first.setdefault(key, item)


def _consent(valid: list[Declared]) -> Iterator[Problem]:
    users: dict[str, str] = {}
    for item in valid:
        if isinstance(item.model, Export) and item.model.enabled:
            users.setdefault(item.model.connection, item.model.name)
    for item in valid:
        connection = item.model
        if isinstance(connection, ConnectionBase) and connection.name in users:
            yield from _consent_of(item, connection, users[connection.name])


def _consent_of(item: Declared, connection: ConnectionBase, user: str) -> Iterator[Problem]:
    consent = connection.consent
    used = f"connection `{connection.name}` is used by enabled export `{user}`"
    hint = "the data-privacy and compliance terms must be accepted: `consent: {accepted: true, "
    hint += "accepted_by: WHO, accepted_at: YYYY-MM-DD}`"
    if consent is None:
        yield _problem(item, (), codes.CONSENT, f"{used} but has no `consent`", hint)
        return
    if not consent.accepted:
        yield _problem(
            item,
            ("consent", "accepted"),
            codes.CONSENT,
            f"{used} but consent is not accepted",
            hint,
        )
    missing = [key for key in ("accepted_by", "accepted_at") if not getattr(consent, key)]
    if missing:
        keys = " and ".join(f"`{k}`" for k in missing)
        yield _problem(
            item, ("consent",), codes.CONSENT, f"{used} but its consent lacks {keys}", hint
        )


def _references(declared: list[Declared], valid: list[Declared]) -> Iterator[Problem]:
    known: dict[str, set[str]] = {}
    for item in declared:
        if item.name is not None:
            known.setdefault(item.kind, set()).add(item.name)
    for item in valid:
        model = item.model
        if isinstance(model, Export):
            yield from _reference(item, "segment", "Segment", model.segment, known)
            yield from _reference(item, "connection", "Connection", model.connection, known)
        elif isinstance(model, Segment):
            yield from _reference(item, "source", "Source", model.source, known)
        elif isinstance(model, Notification):
            for name in model.exports or ():
                yield from _reference(item, "exports", "Export", name, known)


def _reference(
    item: Declared, key: str, kind: str, name: str, known: dict[str, set[str]]
) -> Iterator[Problem]:
    names = sorted(known.get(kind, set()))
    if name in names:
        return
    listed = ", ".join(f"`{n}`" for n in names) if names else "none"
    yield _problem(
        item,
        (key,),
        codes.UNRESOLVED_REFERENCE,
        f"{item.kind} `{item.name}` refers to {kind} `{name}`, which is not declared",
        did_you_mean(name, names) or f"declared {kind} names: {listed}",
    )


def _unused_connections(declared: list[Declared], valid: list[Declared]) -> Iterator[Problem]:
    exports = [item.document.data for item in declared if item.kind == "Export"]
    used = {data.get("connection") for data in exports if isinstance(data, dict)}
    for item in valid:
        if isinstance(item.model, ConnectionBase) and item.model.name not in used:
            yield _problem(
                item,
                ("name",),
                codes.CONNECTION_UNUSED,
                f"connection `{item.model.name}` is not used by any export",
                "remove it, or add an Export that uses it",
                "warning",
            )


def _exactly_one(
    item: Declared, model: Source | Segment, code: str, keys: tuple[str, str], hint: str
) -> Problem | None:
    """A problem when ``model`` sets both or neither of two exclusive ``keys``."""
    first, second = (getattr(model, key) is not None for key in keys)
    if first != second:
        return None
    has = f"both `{keys[0]}` and" if first else f"neither `{keys[0]}` nor"
    return _problem(item, (), code, f"{model.kind} `{model.name}` has {has} `{keys[1]}`", hint)
