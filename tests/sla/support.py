"""Calendars and time helpers shared by the SLA tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.sla.calendar import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = ["mon", "tue", "wed", "thu", "fri"]
ALL_WEEK = [*WEEK, "sat", "sun"]


def cn_calendar(hours: str = "08:30-17:30", **extra: list[str]) -> WorkCalendar:
    return WorkCalendar.build(
        timezone="Asia/Shanghai",
        workdays=WEEK,
        hours=hours,
        holidays="CN",
        extra_holidays=extra.get("extra_holidays", []),
        extra_workdays=extra.get("extra_workdays", []),
    )


def plain_calendar(timezone: str, hours: str, workdays: list[str] = WEEK) -> WorkCalendar:
    return WorkCalendar.build(
        timezone=timezone,
        workdays=workdays,
        hours=hours,
        holidays="",
        extra_holidays=[],
        extra_workdays=[],
    )


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    """A wall-clock time in New York (``fold=1``: the second 01:xx on the fall-back day)."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def utc(t: datetime) -> datetime:
    """Compare instants in UTC: Python compares two times of one zone by wall clock."""
    return t.astimezone(UTC)
