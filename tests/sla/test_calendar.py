"""Working-time arithmetic on fixed cases: spans, holidays, make-up days, edges, DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.sla.calendar import CalendarRangeError, ElapsedClock, WorkCalendar
from tests.sla.support import ALL_WEEK, NEW_YORK, cn_calendar, ny, plain_calendar, sh, utc

H = timedelta(hours=1)
CN = cn_calendar()  # 08:30-17:30, a 9 h working day
CN_SPLIT = cn_calendar("08:30-12:00,13:30-17:30")  # a 7.5 h working day


@pytest.mark.parametrize(
    ("start", "working", "expected"),
    [
        # an ordinary week (2026-03-02 is a Monday)
        (sh(2026, 3, 2, 9), 4 * H, sh(2026, 3, 2, 13)),
        (sh(2026, 3, 2, 16), 4 * H, sh(2026, 3, 3, 11)),
        (sh(2026, 3, 2, 16), 1.5 * H, sh(2026, 3, 2, 17, 30)),  # lands at closing: stays
        (sh(2026, 3, 2, 17, 30), 1 * H, sh(2026, 3, 3, 9, 30)),  # reported at closing
        (sh(2026, 3, 2, 8, 30), 9 * H, sh(2026, 3, 2, 17, 30)),  # from opening, a full day
        (sh(2026, 3, 2, 7), 1 * H, sh(2026, 3, 2, 9, 30)),  # before opening
        (sh(2026, 3, 2, 23), 1 * H, sh(2026, 3, 3, 9, 30)),  # at night
        (sh(2026, 3, 6, 16), 4 * H, sh(2026, 3, 9, 11)),  # Friday into Monday
        (sh(2026, 3, 7, 10), 1 * H, sh(2026, 3, 9, 9, 30)),  # reported on a Saturday
        (sh(2026, 3, 2, 8, 30), 5 * 9 * H, sh(2026, 3, 6, 17, 30)),  # a working week
        (sh(2026, 3, 2, 9), timedelta(0), sh(2026, 3, 2, 9)),
        # Qingming, Sat 4 - Mon 6 April 2026
        (sh(2026, 4, 3, 17), 1 * H, sh(2026, 4, 7, 9)),
        # Spring Festival 2026: Feb 15-23 off, Sat 14 and Sat 28 are working days
        (sh(2026, 2, 13, 16), 4 * H, sh(2026, 2, 14, 11)),
        (sh(2026, 2, 14, 10), 1 * H, sh(2026, 2, 14, 11)),  # on the make-up Saturday
        (sh(2026, 2, 14, 16), 4 * H, sh(2026, 2, 24, 11)),
        (sh(2026, 2, 17, 10), 1 * H, sh(2026, 2, 24, 9, 30)),  # reported on the holiday
        (sh(2026, 2, 14, 8, 30), 27 * H, sh(2026, 2, 25, 17, 30)),  # 3 days over the holiday
        (sh(2026, 2, 27, 17), 1 * H, sh(2026, 2, 28, 9)),  # Sat 28 is a working day
        # Mid-Autumn Fri 25 - Sun 27 Sept, National Day Oct 1-7 2026
        (sh(2026, 9, 24, 17), 1 * H, sh(2026, 9, 28, 9)),
        (sh(2026, 9, 19, 12), 1 * H, sh(2026, 9, 20, 9, 30)),  # Sun 20 Sept is a working day
        (sh(2026, 9, 30, 16), 4 * H, sh(2026, 10, 8, 11)),
        (sh(2026, 10, 3, 10), 4 * H, sh(2026, 10, 8, 12, 30)),
        (sh(2026, 10, 9, 17), 1 * H, sh(2026, 10, 10, 9)),  # Sat 10 Oct is a working day
        # 2025: Spring Festival Jan 28 - Feb 4, Sun Jan 26 and Sat Feb 8 work; Oct 1-8 off
        (sh(2025, 1, 25, 17), 1 * H, sh(2025, 1, 26, 9, 30)),
        (sh(2025, 1, 27, 17), 1 * H, sh(2025, 2, 5, 9)),
        (sh(2025, 2, 7, 17), 1 * H, sh(2025, 2, 8, 9)),
        (sh(2025, 4, 26, 10), 1 * H, sh(2025, 4, 27, 9, 30)),  # Sun 27 April works
        (sh(2025, 9, 27, 10), 1 * H, sh(2025, 9, 28, 9, 30)),  # Sun 28 Sept works
        (sh(2025, 9, 30, 17), 1 * H, sh(2025, 10, 9, 9)),
        (sh(2025, 10, 10, 17), 1 * H, sh(2025, 10, 11, 9)),  # Sat 11 Oct works
        # across the new year 2025 -> 2026 (Jan 1-3 off, Sun Jan 4 works)
        (sh(2025, 12, 31, 17), 1 * H, sh(2026, 1, 4, 9)),
    ],
)
def test_add_on_the_cn_calendar(start: datetime, working: timedelta, expected: datetime) -> None:
    assert CN.add(start, working) == expected


@pytest.mark.parametrize(
    ("start", "working", "expected"),
    [
        (sh(2026, 3, 2, 11), 1 * H, sh(2026, 3, 2, 12)),  # lands at the lunch break: stays
        (sh(2026, 3, 2, 11), 1.5 * H, sh(2026, 3, 2, 14)),
        (sh(2026, 3, 2, 12), 0.5 * H, sh(2026, 3, 2, 14)),  # reported at closing of a span
        (sh(2026, 3, 2, 12, 30), 0.5 * H, sh(2026, 3, 2, 14)),  # reported during lunch
        (sh(2026, 3, 2, 13, 30), 4 * H, sh(2026, 3, 2, 17, 30)),  # from opening of a span
        (sh(2026, 3, 2, 8, 30), 7.5 * H, sh(2026, 3, 2, 17, 30)),  # one working day
        (sh(2026, 9, 30, 16), 7.5 * H, sh(2026, 10, 8, 16)),
    ],
)
def test_add_with_two_spans_a_day(start: datetime, working: timedelta, expected: datetime) -> None:
    assert CN_SPLIT.add(start, working) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (sh(2026, 2, 13, 8, 30), sh(2026, 2, 24, 8, 30), 18 * H),  # Fri 13 + Sat 14
        (sh(2026, 9, 30, 8, 30), sh(2026, 10, 9, 8, 30), 18 * H),  # Sep 30 + Oct 8
        (sh(2026, 3, 2, 12), sh(2026, 3, 2, 20), 5.5 * H),
        (sh(2025, 12, 31, 9), sh(2026, 1, 5, 9), 8.5 * H + 9 * H + 0.5 * H),  # Sun Jan 4 works
        (sh(2026, 3, 2, 9), sh(2026, 3, 2, 9), timedelta(0)),
        (sh(2026, 3, 3, 9), sh(2026, 3, 2, 9), timedelta(0)),  # backwards: nothing
    ],
)
def test_between(a: datetime, b: datetime, expected: timedelta) -> None:
    assert CN.between(a, b) == expected


def test_between_with_two_spans() -> None:
    assert CN_SPLIT.between(sh(2026, 3, 2, 11), sh(2026, 3, 2, 14)) == 1.5 * H


@pytest.mark.parametrize(
    ("t", "working", "opening"),
    [
        (sh(2026, 3, 2, 8, 29), False, sh(2026, 3, 2, 8, 30)),
        (sh(2026, 3, 2, 8, 30), True, sh(2026, 3, 2, 8, 30)),  # opening counts
        (sh(2026, 3, 2, 11, 59), True, sh(2026, 3, 2, 11, 59)),
        (sh(2026, 3, 2, 12), False, sh(2026, 3, 2, 13, 30)),  # closing does not
        (sh(2026, 3, 2, 17, 30), False, sh(2026, 3, 3, 8, 30)),
        (sh(2026, 2, 14, 9), True, sh(2026, 2, 14, 9)),  # make-up Saturday
        (sh(2026, 2, 15, 9), False, sh(2026, 2, 24, 8, 30)),  # Spring Festival
        (sh(2026, 10, 1, 9), False, sh(2026, 10, 8, 8, 30)),  # National Day
    ],
)
def test_is_working_and_next_opening(t: datetime, working: bool, opening: datetime) -> None:
    assert CN_SPLIT.is_working(t) is working
    assert CN_SPLIT.next_opening(t) == opening


def test_day_length_is_one_days_working_hours() -> None:
    assert CN.day_length == 9 * H
    assert CN_SPLIT.day_length == 7.5 * H
    assert plain_calendar("UTC", "00:00-24:00", ALL_WEEK).day_length == 24 * H


def test_results_are_in_the_calendar_timezone() -> None:
    result = CN.add(datetime(2026, 3, 2, 1, 0, tzinfo=NEW_YORK), 1 * H)
    assert result.tzinfo is CN.tz
    assert result == sh(2026, 3, 2, 15)  # 01:00 EST is 14:00 in Shanghai


def test_naive_time_and_negative_duration_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.add(datetime(2026, 3, 2, 9), H)
    with pytest.raises(ValueError, match="negative"):
        CN.add(sh(2026, 3, 2, 9), -H)


def test_extra_holidays_and_workdays() -> None:
    calendar = cn_calendar(extra_holidays=["2026-03-03"], extra_workdays=["2026-03-07"])
    assert calendar.add(sh(2026, 3, 2, 17), 1 * H) == sh(2026, 3, 4, 9)
    assert calendar.add(sh(2026, 3, 6, 17), 1 * H) == sh(2026, 3, 7, 9)
    assert not calendar.is_working_day(date(2026, 3, 3))
    assert calendar.is_working_day(date(2026, 3, 7))


def test_extra_holiday_without_a_holiday_calendar() -> None:
    calendar = WorkCalendar.build(
        timezone="Asia/Shanghai",
        workdays=["mon", "tue", "wed", "thu", "fri"],
        hours="08:30-17:30",
        holidays="",
        extra_holidays=["2026-12-31"],
        extra_workdays=[],
    )
    assert calendar.add(sh(2026, 12, 30, 17), 1 * H) == sh(2027, 1, 1, 9)
    assert calendar.is_working_day(date(2026, 10, 1))  # no statutory holidays


def test_only_an_instant_outside_the_years_1_to_9999_is_an_error() -> None:
    with pytest.raises(CalendarRangeError, match="10000") as caught:
        CN.add(sh(9999, 12, 31, 17), 1 * H)
    assert caught.value.year == 10000
    assert isinstance(caught.value, ValueError)
    with pytest.raises(CalendarRangeError, match="10000"):
        CN.closing(date(9999, 12, 31))
    assert CN.add(sh(9999, 12, 30, 9), 1 * H) == sh(9999, 12, 30, 10)  # the year itself works


def test_the_last_known_year_still_works() -> None:
    assert CN.add(sh(2026, 12, 30, 9), 9 * H) == sh(2026, 12, 31, 9)


def test_a_week_long_holiday_costs_a_few_steps() -> None:
    # 3 working days across National Day build only the year's table once.
    calendar = cn_calendar()
    calendar.add(sh(2026, 9, 30, 16), 27 * H)
    assert sorted(calendar._years) == [2026]
    assert calendar.add(sh(2026, 9, 30, 16), 27 * H) == sh(2026, 10, 10, 16)


# -- DST: America/New_York springs forward on 2026-03-08 and falls back on 2026-11-01

NY_24X7 = plain_calendar("America/New_York", "00:00-24:00", ALL_WEEK)
NY_OFFICE = plain_calendar("America/New_York", "09:00-17:00")
NY_NIGHT = plain_calendar("America/New_York", "00:30-05:00", ALL_WEEK)  # a span with the change
ELAPSED = ElapsedClock(NEW_YORK)


@pytest.mark.parametrize("clock", [NY_24X7, ELAPSED], ids=["24x7 calendar", "elapsed clock"])
@pytest.mark.parametrize(
    ("start", "working", "expected"),
    [
        (ny(2026, 3, 8, 1, 30), 1 * H, ny(2026, 3, 8, 3, 30)),  # 02:xx does not exist
        (ny(2026, 3, 7, 12), 24 * H, ny(2026, 3, 8, 13)),
        (ny(2026, 11, 1, 0, 30), 1 * H, ny(2026, 11, 1, 1, 30)),  # first 01:30 (EDT)
        (ny(2026, 11, 1, 0, 30), 2 * H, ny(2026, 11, 1, 1, 30, fold=1)),  # second (EST)
        (ny(2026, 10, 31, 12), 24 * H, ny(2026, 11, 1, 11)),
    ],
)
def test_real_elapsed_time_across_dst(
    clock: WorkCalendar | ElapsedClock, start: datetime, working: timedelta, expected: datetime
) -> None:
    assert utc(clock.add(start, working)) == utc(expected)
    assert clock.between(start, expected) == working


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (ny(2026, 3, 8), ny(2026, 3, 9), 23 * H),
        (ny(2026, 11, 1), ny(2026, 11, 2), 25 * H),
        (ny(2026, 3, 7), ny(2026, 3, 14), 7 * 24 * H - H),
    ],
)
def test_a_dst_day_is_shorter_or_longer_on_a_24x7_calendar(
    a: datetime, b: datetime, expected: timedelta
) -> None:
    assert NY_24X7.between(a, b) == expected
    assert ELAPSED.between(a, b) == expected


def test_office_hours_across_dst_weekends() -> None:
    assert NY_OFFICE.add(ny(2026, 3, 6, 16), 2 * H) == ny(2026, 3, 9, 10)
    assert NY_OFFICE.between(ny(2026, 3, 6, 16), ny(2026, 3, 9, 10)) == 2 * H
    assert utc(NY_OFFICE.add(ny(2026, 10, 30, 16), 2 * H)) == utc(ny(2026, 11, 2, 10))
    assert NY_OFFICE.between(ny(2026, 10, 30, 16), ny(2026, 11, 2, 10)) == 2 * H


def test_a_span_across_the_dst_change_is_real_time() -> None:
    # 00:30-05:00 is 4.5 h on the wall, 3.5 h real on Mar 8 and 5.5 h real on Nov 1.
    assert NY_NIGHT.day_length == 4.5 * H
    assert NY_NIGHT.between(ny(2026, 3, 8, 0, 30), ny(2026, 3, 8, 5)) == 3.5 * H
    assert utc(NY_NIGHT.add(ny(2026, 3, 8, 0, 30), 4 * H)) == utc(ny(2026, 3, 9, 1))
    assert NY_NIGHT.between(ny(2026, 11, 1, 0, 30), ny(2026, 11, 1, 5)) == 5.5 * H
    assert utc(NY_NIGHT.add(ny(2026, 11, 1, 0, 30), 5 * H)) == utc(ny(2026, 11, 1, 4, 30))


def test_closing_of_a_day() -> None:
    assert CN_SPLIT.closing(date(2026, 10, 9)) == sh(2026, 10, 9, 17, 30)
    assert CN_SPLIT.closing(date(2026, 10, 3)) == sh(2026, 9, 30, 17, 30)  # a holiday
    assert NY_24X7.closing(date(2026, 3, 8)) == ny(2026, 3, 9)
