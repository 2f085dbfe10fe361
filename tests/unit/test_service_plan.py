"""The pure rules of the service plan: cadences, due days on the working calendar, catch-up."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse_config
from bot.domain.service_plan import (
    Cadence,
    PlanTask,
    TaskState,
    catch_up,
    due_at,
    first_working_day,
    is_overdue,
    occurrence_after,
    recipients,
)

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = parse_config({"calendar": {"hours": "08:30-12:00,13:30-17:30"}}).calendar


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        (Cadence(days=14), date(2026, 11, 23), date(2026, 12, 7)),
        (Cadence(months=1), date(2026, 1, 31), date(2026, 2, 28)),
        (Cadence(months=1), date(2026, 12, 15), date(2027, 1, 15)),
        (Cadence(months=6), date(2026, 8, 31), date(2027, 2, 28)),
        (Cadence(months=2), date(2024, 12, 31), date(2025, 2, 28)),
        (Cadence(months=1, days=7), date(2026, 3, 31), date(2026, 5, 7)),
    ],
)
def test_a_cadence_counts_calendar_months_and_days(
    cadence: Cadence, day: date, expected: date
) -> None:
    assert cadence.after(day) == expected


def test_a_due_day_off_moves_to_the_next_working_day() -> None:
    # National Day 2026: October 1-7 off; the 8th is the first working day.
    assert due_at(date(2026, 10, 1), CALENDAR) == datetime(2026, 10, 8, 8, 30, tzinfo=TZ)
    assert due_at(date(2026, 11, 28), CALENDAR) == datetime(2026, 11, 30, 8, 30, tzinfo=TZ)
    assert due_at(date(2026, 11, 30), CALENDAR) == datetime(2026, 11, 30, 8, 30, tzinfo=TZ)
    # A make-up working day (Sunday 2026-01-04 after New Year) is a working day.
    assert first_working_day(2026, 1, CALENDAR) == datetime(2026, 1, 4, 8, 30, tzinfo=TZ)
    assert first_working_day(2026, 10, CALENDAR).date() == date(2026, 10, 8)


def test_a_year_without_holiday_data_falls_back_to_weekdays() -> None:
    # 2027 is not in the installed holiday data: Saturday 2027-01-23 moves to Monday.
    assert due_at(date(2027, 1, 23), CALENDAR) == datetime(2027, 1, 25, 8, 30, tzinfo=TZ)


def test_catch_up_sends_the_latest_due_and_supersedes_the_rest() -> None:
    week = Cadence(days=7)
    now = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
    current, skipped, following = catch_up(date(2026, 11, 2), week, now, CALENDAR)
    assert [o.nominal for o in skipped] == [
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    assert current.nominal == date(2026, 11, 30)
    assert following.nominal == date(2026, 12, 7)
    assert current.overdue_at == following.due
    on_time = catch_up(date(2026, 11, 23), week, datetime(2026, 11, 30, 8, 30, tzinfo=TZ), CALENDAR)
    assert on_time[0].nominal == date(2026, 11, 30) and on_time[1] == []


def test_overdue_once_the_next_one_is_due() -> None:
    occ = occurrence_after(date(2026, 11, 23), Cadence(days=7), CALENDAR)
    assert not is_overdue(TaskState.OPEN, occ.overdue_at, occ.due)
    assert is_overdue(TaskState.OPEN, occ.overdue_at, occ.overdue_at)
    assert not is_overdue(TaskState.DONE, occ.overdue_at, occ.overdue_at)


def test_who_does_a_task() -> None:
    people = {"owner": "U0ENG2", "contacts": ("U0CUST",), "managers": ("U0MGR1", "U0MGR2")}
    assert recipients(PlanTask.CALL, **people) == ("U0ENG2",)
    assert recipients(PlanTask.SURVEY, **people) == ("U0CUST",)
    assert recipients(PlanTask.INSPECTION, **people) == ("U0MGR1", "U0MGR2")
    assert recipients(PlanTask.VISIT, **(people | {"owner": None})) == ("U0MGR1", "U0MGR2")
