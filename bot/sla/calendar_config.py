"""Reading the ``[calendar]`` config values: weekdays, daily spans, lists of days and years.
Each bad value raises :class:`~bot.errors.ConfigError` naming its key."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from bot.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: n for n, full in enumerate(_FULL_NAMES) for name in (full[:3], full)}
_SPAN = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


def parse_hours(hours: str) -> tuple[tuple[int, int], ...]:
    key = "calendar.hours"
    if not isinstance(hours, str) or not hours.strip():
        raise ConfigError(key, 'expected spans such as "08:30-17:30" or "08:30-12:00,13:30-17:30"')
    spans: list[tuple[int, int]] = []
    for part in hours.split(","):
        match = _SPAN.fullmatch(part.strip())
        if match is None:
            raise ConfigError(key, f"{part.strip()!r} is not a span such as 08:30-17:30")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ConfigError(key, f"{part.strip()!r} is not a time of day (00:00 to 24:00)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ConfigError(key, f"{part.strip()!r} ends before it starts")
        if spans and start < spans[-1][1]:
            raise ConfigError(key, f"{part.strip()!r} overlaps or precedes the span before it")
        if spans and start == spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return tuple(spans)


def parse_days(values: Sequence[str | date], *, key: str) -> frozenset[date]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ConfigError(key, 'expected a list of dates such as ["2026-12-31"]')
    days = set()
    for value in values:
        if isinstance(value, datetime):
            raise ConfigError(key, f"{value!r} is a time; expected a date such as 2026-12-31")
        if isinstance(value, date):
            days.add(value)
            continue
        try:
            days.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise ConfigError(key, f"{value!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)


def parse_workdays(workdays: Sequence[str]) -> frozenset[int]:
    key = "calendar.workdays"
    if isinstance(workdays, str) or not isinstance(workdays, Sequence):
        raise ConfigError(key, 'expected a list such as ["mon", "tue", "wed", "thu", "fri"]')
    found = {_DAY_NUMBERS.get(str(name).strip().lower(), -1) for name in workdays}
    if -1 in found:
        bad = next(name for name in workdays if str(name).strip().lower() not in _DAY_NUMBERS)
        raise ConfigError(key, f"{bad!r} is not a weekday; use mon, tue, wed, thu, fri, sat, sun")
    if not found:
        raise ConfigError(key, "at least one working day is needed")
    return frozenset(found)


def parse_years(years: Sequence[int]) -> frozenset[int]:
    if isinstance(years, str) or not all(
        isinstance(y, int) and not isinstance(y, bool) and 1 <= y <= 9999 for y in years
    ):
        raise ConfigError("calendar.own_holiday_years", "expected a list of years such as [2027]")
    return frozenset(years)
