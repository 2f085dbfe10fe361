"""Properties of the working-time arithmetic, on calendars with holidays, breaks and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sla.calendar import ElapsedClock, WorkCalendar
from tests.sla.support import ALL_WEEK, NEW_YORK, cn_calendar, plain_calendar, utc

US = timedelta(microseconds=1)
CALENDARS = [
    cn_calendar("08:30-12:00,13:30-17:30"),  # holidays, make-up days, a lunch break
    cn_calendar("08:30-17:30"),
    plain_calendar("America/New_York", "09:00-17:00"),  # DST weekends
    plain_calendar("America/New_York", "00:30-05:00", ALL_WEEK),  # spans that hold the change
    plain_calendar("America/New_York", "00:00-24:00", ALL_WEEK),  # 24x7
    plain_calendar("Europe/London", "08:00-12:00,12:00-12:30,13:00-18:00", ["mon", "sat"]),
]
FIRST = datetime(2025, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 6, 30, tzinfo=UTC)  # + 20 working days stays in 2026 (CN data ends)
PROPERTY = settings(max_examples=200, deadline=None)

calendars = st.sampled_from(CALENDARS)
instants = st.integers(0, (LAST - FIRST) // US).map(lambda n: FIRST + n * US)
# mostly round minutes, sometimes any microsecond; up to 20 working days of 9 h
durations = st.one_of(
    st.integers(0, 20 * 9 * 60).map(lambda n: timedelta(minutes=n)),
    st.integers(0, 20 * 9 * 3600 * 10**6).map(lambda n: n * US),
)


@PROPERTY
@given(calendars, instants, durations, durations)
def test_add_is_monotonic_in_the_duration(
    calendar: WorkCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    shorter, longer = sorted((a, b))
    assert utc(calendar.add(start, shorter)) <= utc(calendar.add(start, longer))


@PROPERTY
@given(calendars, instants, instants, durations)
def test_add_is_monotonic_in_the_start(
    calendar: WorkCalendar, s: datetime, t: datetime, working: timedelta
) -> None:
    early, late = sorted((s, t))
    assert utc(calendar.add(early, working)) <= utc(calendar.add(late, working))


@PROPERTY
@given(calendars, instants, durations, durations)
def test_add_is_additive(
    calendar: WorkCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    assert utc(calendar.add(calendar.add(start, a), b)) == utc(calendar.add(start, a + b))


@PROPERTY
@given(calendars, instants, durations)
def test_between_undoes_add(calendar: WorkCalendar, start: datetime, working: timedelta) -> None:
    assert calendar.between(start, calendar.add(start, working)) == working


@PROPERTY
@given(calendars, instants, durations.filter(lambda d: d > timedelta(0)))
def test_a_positive_add_ends_in_working_time_or_at_a_span_end(
    calendar: WorkCalendar, start: datetime, working: timedelta
) -> None:
    due = calendar.add(start, working)
    assert utc(due) > utc(start)
    # the last microsecond before the deadline was working time: the deadline is inside
    # a span or exactly at its end, never in a gap after a span has closed
    assert calendar.is_working(due - US)
    if not calendar.is_working(due):
        assert calendar.next_opening(due) != due


@PROPERTY
@given(calendars, instants, instants, instants)
def test_between_adds_up(calendar: WorkCalendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)


@PROPERTY
@given(calendars, instants)
def test_next_opening_is_working_and_nothing_is_skipped(
    calendar: WorkCalendar, t: datetime
) -> None:
    opening = calendar.next_opening(t)
    assert calendar.is_working(opening)
    assert calendar.between(t, opening) == timedelta(0)
    assert (utc(opening) == utc(t)) is calendar.is_working(t)


@PROPERTY
@given(instants, durations)
def test_a_24x7_calendar_is_the_elapsed_clock(start: datetime, working: timedelta) -> None:
    calendar, elapsed = CALENDARS[4], ElapsedClock(NEW_YORK)
    assert utc(calendar.add(start, working)) == utc(elapsed.add(start, working))
    assert utc(elapsed.add(start, working)) - utc(start) == working
