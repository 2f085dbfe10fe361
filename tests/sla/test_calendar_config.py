"""Building a calendar from the config, and China's official holiday plans of 2025 and 2026."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.errors import ConfigError
from bot.sla.calendar import WorkCalendar
from bot.sla.holiday_plans import official_years
from tests.sla.support import WEEK, sh

GOOD: dict[str, object] = {
    "timezone": "Asia/Shanghai",
    "workdays": WEEK,
    "hours": "08:30-17:30",
    "holidays": "CN",
    "extra_holidays": ["2026-12-31"],
    "extra_workdays": [],
}


def build(**changes: object) -> WorkCalendar:
    return WorkCalendar.build(**{**GOOD, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": "../etc/passwd"}, "timezone"),
        ({"workdays": ["mon", "funday"]}, "calendar.workdays"),
        ({"workdays": []}, "calendar.workdays"),
        ({"workdays": "mon"}, "calendar.workdays"),
        ({"hours": "8-17"}, "calendar.hours"),
        ({"hours": ""}, "calendar.hours"),
        ({"hours": "17:30-08:30"}, "calendar.hours"),
        ({"hours": "25:00-26:00"}, "calendar.hours"),
        ({"hours": "08:30-24:30"}, "calendar.hours"),
        ({"hours": "08:60-17:00"}, "calendar.hours"),
        ({"hours": "08:30-12:00,11:00-17:30"}, "calendar.hours"),
        ({"hours": "13:30-17:30,08:30-12:00"}, "calendar.hours"),
        ({"holidays": "US"}, "calendar.holidays"),
        ({"extra_holidays": ["2026-13-01"]}, "calendar.extra_holidays"),
        ({"extra_holidays": "2026-12-31"}, "calendar.extra_holidays"),
        ({"extra_workdays": ["next saturday"]}, "calendar.extra_workdays"),
        ({"extra_workdays": ["2026-12-31"]}, "calendar.extra_workdays"),  # also a holiday
    ],
)
def test_bad_calendar_config_names_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(**changes)
    assert caught.value.key == key


def test_good_config_variants() -> None:
    calendar = build(
        workdays=["Monday", "tue", "WED", "thu", "fri", "sat"],
        hours="08:30-12:00, 13:30-17:30",
        holidays="cn",
        extra_holidays=[date(2026, 12, 31)],
    )
    assert calendar.workdays == frozenset(range(6))
    assert calendar.spans == ((510, 720), (810, 1050))
    assert calendar.holidays == "CN"
    assert calendar.extra_holidays == frozenset({date(2026, 12, 31)})
    assert build(holidays="").holidays == ""


def test_touching_spans_are_one_span_and_all_day_is_24_hours() -> None:
    assert build(hours="08:00-12:00,12:00-17:00").spans == ((480, 1020),)
    assert build(hours="00:00-24:00").day_length == timedelta(hours=24)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# The State Council's plans: days off (statutory holidays, with the weekdays given off
# in lieu) and the make-up working days (Saturdays and Sundays that are working days).
OFF: dict[int, list[tuple[date, date]]] = {
    2025: [
        (date(2025, 1, 1), date(2025, 1, 1)),
        (date(2025, 1, 28), date(2025, 2, 4)),
        (date(2025, 4, 4), date(2025, 4, 6)),
        (date(2025, 5, 1), date(2025, 5, 5)),
        (date(2025, 5, 31), date(2025, 6, 2)),
        (date(2025, 10, 1), date(2025, 10, 8)),
    ],
    2026: [
        (date(2026, 1, 1), date(2026, 1, 3)),
        (date(2026, 2, 15), date(2026, 2, 23)),
        (date(2026, 4, 4), date(2026, 4, 6)),
        (date(2026, 5, 1), date(2026, 5, 5)),
        (date(2026, 6, 19), date(2026, 6, 21)),
        (date(2026, 9, 25), date(2026, 9, 27)),
        (date(2026, 10, 1), date(2026, 10, 7)),
    ],
}
MAKE_UP: dict[int, list[date]] = {
    2025: [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    ],
    2026: [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_follows_the_official_plan(year: int) -> None:
    calendar = build(extra_holidays=[])
    off = {day for first, last in OFF[year] for day in _days(first, last)}
    make_up = set(MAKE_UP[year])
    wrong = [
        day
        for day in _days(date(year, 1, 1), date(year, 12, 31))
        if calendar.is_working_day(day)
        != (day in make_up or (day.weekday() < 5 and day not in off))
    ]
    assert wrong == []
    assert all(day.weekday() >= 5 for day in make_up)


def test_holiday_library_covers_2025_and_2026() -> None:
    first, last = official_years()
    assert first <= 2025 and last >= 2026


def test_a_year_the_config_describes_itself_needs_no_library_data() -> None:
    calendar = build(
        extra_holidays=["2026-12-31", "2027-01-01"],
        extra_workdays=["2027-01-02"],
        own_holiday_years=[2027],
    )
    assert calendar.add(sh(2026, 12, 30, 17), timedelta(hours=1)) == sh(2027, 1, 2, 9)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 4))
    assert not calendar.is_estimated(2027)
    # 2028 is not listed: estimated (New Year's Day falls on a Saturday, Monday is given)
    assert calendar.is_estimated(2028)
    assert not calendar.is_working_day(date(2028, 1, 3))


@pytest.mark.parametrize("years", [["2027"], [True], [0], "2027"])
def test_bad_own_holiday_years_names_the_key(years: object) -> None:
    with pytest.raises(ConfigError) as caught:
        build(own_holiday_years=years)
    assert caught.value.key == "calendar.own_holiday_years"
