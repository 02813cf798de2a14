"""Schedules: is an export due for ``apply --due``?

Cron expressions are read with croniter, in UTC. An export without a schedule is always due; an
export that never succeeded is due; otherwise it is due when a fire time of its schedule lies in
``(last_success, now]``.
"""

from __future__ import annotations

import datetime as dt

from croniter import CroniterError, croniter

from reconciler.errors import ReconcilerError
from reconciler.models import Export


class ScheduleError(ReconcilerError):
    """An export's ``schedule`` is not a valid cron expression."""

    hint = "use five cron fields, for example '0 */6 * * *' (every six hours, UTC)"


def _utc(moment: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def check_schedule(export: Export) -> None:
    """Raise :class:`ScheduleError` unless the export's schedule (if any) is valid cron."""
    if export.schedule is not None and not croniter.is_valid(export.schedule):
        raise ScheduleError(
            f"export '{export.name}': schedule '{export.schedule}' is not a valid cron expression"
        )


def next_fire(export: Export, after: dt.datetime) -> dt.datetime | None:
    """The first fire time of the export's schedule strictly after ``after`` (None: none)."""
    if export.schedule is None:
        return None
    check_schedule(export)
    try:
        fire: dt.datetime = croniter(export.schedule, _utc(after)).get_next(dt.datetime)
    except CroniterError as exc:
        raise ScheduleError(f"export '{export.name}': schedule '{export.schedule}': {exc}") from exc
    return _utc(fire)


def is_due(export: Export, last_success: dt.datetime | None, now: dt.datetime) -> bool:
    """True when ``apply --due`` should run ``export`` at ``now``."""
    if export.schedule is None:
        return True
    if last_success is None:
        check_schedule(export)
        return True
    fire = next_fire(export, last_success)
    return fire is not None and fire <= _utc(now)


def due_status(
    export: Export, last_success: dt.datetime | None, now: dt.datetime
) -> tuple[bool, dt.datetime | None]:
    """(due at ``now``, when it is next due if not): for ``apply --due`` to say what it
    skipped. A schedule that cannot be evaluated raises :class:`ScheduleError`."""
    if is_due(export, last_success, now):
        return True, None
    assert last_success is not None  # is_due is True without a previous success
    return False, next_fire(export, last_success)
