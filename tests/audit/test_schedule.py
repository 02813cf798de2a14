"""is_due: cron fire times in (last_success, now], in UTC."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.audit.schedule import ScheduleError, is_due, next_fire
from reconciler.models import Export

UTC = dt.UTC


def make_export(schedule: str | None) -> Export:
    return Export(
        kind="Export",
        name="vip-to-klaviyo",
        segment="vip",
        connection="klaviyo",
        list_id="Y6nRLr",
        fields={"email": "email"},  # type: ignore[arg-type]
        schedule=schedule,
    )


def at(hour: int, minute: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_without_schedule_always_due() -> None:
    assert is_due(make_export(None), at(5, 59), at(6, 0))
    assert is_due(make_export(None), None, at(6, 0))


def test_never_run_is_due() -> None:
    assert is_due(make_export("0 */6 * * *"), None, at(1))


def test_due_when_a_fire_time_passed_since_last_success() -> None:
    export = make_export("0 */6 * * *")
    assert is_due(export, at(5, 59), at(6, 0))  # 06:00 lies in (05:59, 06:00]
    assert is_due(export, at(1), at(13))  # missed several fire times: still due once


def test_not_due_between_fire_times() -> None:
    export = make_export("0 */6 * * *")
    assert not is_due(export, at(6, 0), at(11, 59))
    assert not is_due(export, at(6, 1), at(6, 2))


def test_fire_time_equal_to_last_success_is_not_due_again() -> None:
    export = make_export("*/15 * * * *")
    assert not is_due(export, at(6, 15), at(6, 29))
    assert is_due(export, at(6, 15), at(6, 30))


def test_naive_datetimes_are_utc_and_offsets_are_converted() -> None:
    export = make_export("0 12 * * *")
    paris = dt.timezone(dt.timedelta(hours=1))
    last = dt.datetime(2026, 3, 1, 12, 30, tzinfo=paris)  # 11:30 UTC
    assert is_due(export, last, dt.datetime(2026, 3, 1, 12, 0))  # naive = 12:00 UTC
    assert not is_due(export, at(12, 0), dt.datetime(2026, 3, 1, 14, 0, tzinfo=paris))


def test_next_fire() -> None:
    assert next_fire(make_export("0 */6 * * *"), at(6)) == at(12)
    assert next_fire(make_export(None), at(6)) is None


def test_invalid_schedule_is_a_typed_error() -> None:
    with pytest.raises(ScheduleError, match="not a valid cron expression"):
        is_due(make_export("every day"), at(1), at(2))
    with pytest.raises(ScheduleError):
        is_due(make_export("61 * * * *"), None, at(2))
