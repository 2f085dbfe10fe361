"""Working time: which instants count on the clock of classes C and D, and arithmetic on it.

A :class:`WorkCalendar` knows working weekdays, the daily hours (one or more spans),
statutory holidays and make-up working days (``holidays = "CN"``, year by year from
:mod:`bot.sla.holiday_plans`: official where published, else estimated) and extra days.
Internally each local year becomes a table of working intervals in UTC microseconds with
cumulative working time, built once and cached; :meth:`WorkCalendar.add` and
:meth:`WorkCalendar.between` are two binary searches plus a step per year crossed, so
their cost does not grow with the minutes or the holidays spanned.

Conventions:

- Intervals are half-open: a span ``08:30-17:30`` is working from 08:30 up to, not
  including, 17:30. ``is_working`` at 17:30 is False.
- ``add`` returns the earliest instant at which the working time is reached, so a
  deadline that lands exactly at the end of a span stays there, and a start outside
  working time counts from the next opening.
- Working time is real elapsed time: a span that contains a DST change is an hour longer
  or shorter. A span boundary that falls in a DST gap moves forward by the gap (PEP 495).
- One working day (:attr:`WorkCalendar.day_length`) is the nominal length of the daily
  spans on the wall clock.
- Every year from 1 to 9999 has an answer; a year whose holidays are estimated is named by
  :meth:`WorkCalendar.estimated_years`. Only an instant outside those years is an error.
- All inputs must be timezone-aware; results are in the calendar's timezone.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError
from bot.sla.calendar_config import parse_days, parse_hours, parse_workdays, parse_years
from bot.sla.holiday_plans import cn_plan, is_official

HOLIDAY_CALENDARS = ("CN",)

_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YEAR_US = 31_556_952_000_000  # the mean Gregorian year, to guess a year from an instant
_NO_YEAR = 1 << 62  # the bound of a year outside 1..9999: beyond every instant


class CalendarRangeError(ValueError):
    """An instant outside the years a date can have (1 to 9999): nothing to compute."""

    def __init__(self, year: int) -> None:
        super().__init__(f"the year {year} is outside the calendar (years {MINYEAR} to {MAXYEAR})")
        self.year = year


class SlaClock(Protocol):
    """What the deadlines need of a clock: a working-time calendar or the 24x7 clock."""

    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def day_length(self) -> timedelta: ...

    def add(self, start: datetime, working: timedelta) -> datetime: ...

    def between(self, a: datetime, b: datetime) -> timedelta: ...

    def is_working(self, t: datetime) -> bool: ...

    def next_opening(self, t: datetime) -> datetime: ...

    def estimated_years(self, a: datetime, b: datetime) -> tuple[int, ...]: ...


def _aware(t: datetime) -> datetime:
    if t.utcoffset() is None:  # None for a naive datetime too
        raise ValueError(f"a timezone-aware datetime is needed, got {t.isoformat()}")
    return t


def _to_us(t: datetime) -> int:
    return (_aware(t) - _EPOCH) // _US


_ZERO = timedelta(0)


def _non_negative(working: timedelta) -> int:
    amount = working // _US
    if amount < 0:
        raise ValueError(f"cannot add a negative duration ({working})")
    return amount


@dataclass(frozen=True)
class ElapsedClock:
    """The 24x7 clock of classes A and B: real elapsed time, every instant counts.

    ``add`` works in UTC, so adding 1 h across a DST change is one real hour."""

    tz: ZoneInfo

    @property
    def day_length(self) -> timedelta:
        return timedelta(days=1)

    # Plain datetime arithmetic (checked for awareness only): the stage rules call these
    # for every reminder of every ticket a step changes.

    def add(self, start: datetime, working: timedelta) -> datetime:
        _aware(start)
        _non_negative(working)
        return (start.astimezone(UTC) + working).astimezone(self.tz)

    def between(self, a: datetime, b: datetime) -> timedelta:
        # In UTC µs: two datetimes of one zone subtract by the wall clock, wrong across DST.
        return max(_ZERO, (_to_us(b) - _to_us(a)) * _US)

    def is_working(self, t: datetime) -> bool:
        _aware(t)
        return True

    def next_opening(self, t: datetime) -> datetime:
        return _aware(t).astimezone(self.tz)

    def estimated_years(self, a: datetime, b: datetime) -> tuple[int, ...]:
        """None: the 24x7 clock asks no holiday calendar."""
        return ()


@dataclass(frozen=True, slots=True)
class _Year:
    """Working intervals of one local year: ``starts[i]``..``ends[i]`` in UTC µs, and the
    working time up to the start (``before[i]``) and the end (``upto[i]``) of each."""

    starts: list[int]
    ends: list[int]
    before: list[int]
    upto: list[int]
    total: int

    def offset(self, x: int) -> int:
        """Working µs from the start of this year up to instant ``x``."""
        i = bisect_right(self.ends, x)
        if i == len(self.ends):
            return self.total
        start = self.starts[i]
        return self.before[i] + (x - start if x > start else 0)


@dataclass(frozen=True)
class WorkCalendar:
    """Working time in one timezone. Build it with :meth:`build` (validates config)."""

    tz: ZoneInfo
    workdays: frozenset[int]  # 0 = Monday
    spans: tuple[tuple[int, int], ...]  # minutes after local midnight, [start, end)
    holidays: str = ""  # "CN" or "" (none)
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    own_holiday_years: frozenset[int] = frozenset()  # years the extra_* lists fully describe
    _years: dict[int, _Year] = field(default_factory=dict, compare=False, repr=False)
    _bounds: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        *,
        timezone: str,
        workdays: Sequence[str],
        hours: str,
        holidays: str,
        extra_holidays: Sequence[str | date] = (),
        extra_workdays: Sequence[str | date] = (),
        own_holiday_years: Sequence[int] = (),
    ) -> WorkCalendar:
        """A calendar from the config values; a bad value raises :class:`ConfigError`.

        ``own_holiday_years``: years for which the holiday data is not asked, because the
        config lists that year's statutory holidays and make-up working days itself in
        ``extra_holidays`` and ``extra_workdays``: such a year is official, not estimated
        (for a year whose published plan the installed data does not know yet). Its errors
        name ``calendar.own_holiday_years``."""
        try:
            tz = ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ConfigError(
                "timezone", f"{timezone!r} is not a known timezone such as Asia/Shanghai"
            ) from None
        code = holidays.strip().upper() if isinstance(holidays, str) else None
        if code not in ("", *HOLIDAY_CALENDARS):
            raise ConfigError(
                "calendar.holidays", f"{holidays!r} is not a known holiday calendar; use CN or ''"
            )
        off = parse_days(extra_holidays, key="calendar.extra_holidays")
        on = parse_days(extra_workdays, key="calendar.extra_workdays")
        if both := sorted(off & on):
            raise ConfigError(
                "calendar.extra_workdays", f"{both[0]} is also listed in extra_holidays"
            )
        return cls(
            tz=tz,
            own_holiday_years=parse_years(own_holiday_years),
            workdays=parse_workdays(workdays),
            spans=parse_hours(hours),
            holidays=code or "",
            extra_holidays=off,
            extra_workdays=on,
        )

    @property
    def day_length(self) -> timedelta:
        """One working day: the length of one day's working hours on the wall clock."""
        return timedelta(minutes=sum(end - start for start, end in self.spans))

    @property
    def elapsed(self) -> ElapsedClock:
        """The 24x7 clock in the same timezone (classes A and B)."""
        return ElapsedClock(self.tz)

    # -- arithmetic ---------------------------------------------------------------

    def add(self, start: datetime, working: timedelta) -> datetime:
        """The earliest instant by which ``working`` time has passed since ``start``."""
        amount = _non_negative(working)
        x = _to_us(start)
        if amount == 0:
            return start.astimezone(self.tz)
        year = self._year_of(x)
        table = self._years.get(year) or self._table(year)
        target = table.offset(x) + amount
        while target > table.total:
            target -= table.total
            year += 1
            table = self._years.get(year) or self._table(year)
        i = bisect_left(table.upto, target)
        result = table.starts[i] + target - table.before[i]
        return (_EPOCH + result * _US).astimezone(self.tz)

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in ``[a, b)``; zero when ``b`` is not after ``a``."""
        xa, xb = _to_us(a), _to_us(b)
        if xb <= xa:
            return timedelta(0)
        ya, yb = self._year_of(xa), self._year_of(xb)
        amount = self._table(yb).offset(xb) - self._table(ya).offset(xa)
        amount += sum(self._table(year).total for year in range(ya, yb))
        return amount * _US

    def is_working(self, t: datetime) -> bool:
        """Whether ``t`` lies in working time (a span's end is not)."""
        x = _to_us(t)
        table = self._table(self._year_of(x))
        i = bisect_right(table.ends, x)
        return i < len(table.ends) and table.starts[i] <= x

    def next_opening(self, t: datetime) -> datetime:
        """``t`` itself if it is working time, else the start of the next span."""
        x = _to_us(t)
        year = self._year_of(x)
        table = self._table(year)
        i = bisect_right(table.ends, x)
        while i == len(table.ends):
            year, i = year + 1, 0
            table = self._table(year)
        return (_EPOCH + max(x, table.starts[i]) * _US).astimezone(self.tz)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` has working hours: weekday, holidays, make-up and extra days."""
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        if self.holidays == "CN" and day.year not in self.own_holiday_years:
            plan = cn_plan(day.year)
            if day in plan.make_up:
                return True
            if day in plan.days_off:
                return False
        return day.weekday() in self.workdays

    def is_estimated(self, year: int) -> bool:
        """Whether ``year``'s statutory holidays are estimated: China's calendar is on, the
        installed data has no published plan for the year and the config does not list it
        in ``own_holiday_years``."""
        return (
            self.holidays == "CN" and year not in self.own_holiday_years and not is_official(year)
        )

    def estimated_years(self, a: datetime, b: datetime) -> tuple[int, ...]:
        """The local years from ``a`` to ``b`` (both included, in either order) whose
        holidays are estimated: what a result computed over that time depends on."""
        if not self.holidays:
            return ()
        first, last = sorted((self._year_of(_to_us(a)), self._year_of(_to_us(b))))
        if first == last:  # the common case, asked for every deadline of every ticket
            return (first,) if self.is_estimated(first) else ()
        return tuple(year for year in range(first, last + 1) if self.is_estimated(year))

    def closing(self, day: date) -> datetime:
        """The end of the last working span on ``day`` or, if it is no working day, of the
        last working day before it."""
        day_end = self._local_us(day, 24 * 60)
        x = day_end - 1
        year = self._year_of(x)
        table = self._table(year)
        i = bisect_right(table.starts, x)
        while i == 0:
            year -= 1
            table = self._table(year)
            i = len(table.starts)
        return (_EPOCH + min(table.ends[i - 1], day_end) * _US).astimezone(self.tz)

    # -- tables -------------------------------------------------------------------

    def _local_us(self, day: date, minutes: int) -> int:
        try:
            local = datetime.combine(day, time()) + timedelta(minutes=minutes)
        except OverflowError:  # midnight after 9999-12-31
            raise CalendarRangeError(day.year + 1) from None
        return _to_us(local.replace(tzinfo=self.tz))

    def _bound(self, year: int) -> int:
        """The instant the local year begins, in UTC µs."""
        bound = self._bounds.get(year)
        if bound is None:
            if not MINYEAR <= year <= MAXYEAR:
                return -_NO_YEAR if year < MINYEAR else _NO_YEAR
            bound = self._bounds[year] = self._local_us(date(year, 1, 1), 0)
        return bound

    def _year_of(self, x: int) -> int:
        """The local year of instant ``x`` (µs since the epoch)."""
        year = 1970 + x // _YEAR_US
        bounds = self._bounds
        while x < (bounds.get(year) or self._bound(year)):
            year -= 1
        while x >= (bounds.get(year + 1) or self._bound(year + 1)):
            year += 1
        return year

    def _table(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            if not MINYEAR <= year <= MAXYEAR:
                raise CalendarRangeError(year)
            table = self._years[year] = self._build_year(year)
        return table

    def _build_year(self, year: int) -> _Year:
        starts: list[int] = []
        ends: list[int] = []
        first = date(year, 1, 1)
        for n in range((date(year, 12, 31) - first).days + 1):
            day = first + timedelta(days=n)
            if self.is_working_day(day):
                for start_min, end_min in self.spans:
                    start, end = self._local_us(day, start_min), self._local_us(day, end_min)
                    if ends and start <= ends[-1]:  # touches the span before (24x7, DST)
                        ends[-1] = max(ends[-1], end)
                    elif end > start:
                        starts.append(start)
                        ends.append(end)
        before: list[int] = []
        upto: list[int] = []
        total = 0
        for start, end in zip(starts, ends, strict=True):
            before.append(total)
            total += end - start
            upto.append(total)
        return _Year(starts=starts, ends=ends, before=before, upto=upto, total=total)
