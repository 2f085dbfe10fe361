"""China's statutory holidays and make-up working days (调休), one year at a time.

A year's plan is **official** when the installed ``chinesecalendar`` has the State
Council's published plan for it (the days off and the Saturdays and Sundays that are
working days). For any other year the plan is **estimated** from the rules of the holiday
law (全国年节及纪念日放假办法: which festivals are days off, lunar ones included, and a
weekday given for a holiday that falls on a weekend), as the ``holidays`` package computes
them; make-up working days are not known until the plan is published, so an estimate has
none unless that package already knows the published plan. Deadlines that depend on an
estimated year are provisional (:mod:`bot.sla.deadlines`). See docs/calendar-choice.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache

import chinese_calendar
import holidays


class PlanSource(StrEnum):
    """Where a year's holidays come from."""

    OFFICIAL = "official"  # the published plan, from chinesecalendar
    ESTIMATED = "estimated"  # the holiday law's rules, from the holidays package


@dataclass(frozen=True)
class YearPlan:
    """The statutory days off and the make-up working days of one year."""

    year: int
    days_off: frozenset[date]
    make_up: frozenset[date]
    source: PlanSource

    @property
    def estimated(self) -> bool:
        return self.source is PlanSource.ESTIMATED


@cache
def official_years() -> tuple[int, int]:
    """The first and last year of the published plans the installed chinesecalendar knows."""
    years = [d.year for d in chinese_calendar.constants.holidays]
    return min(years), max(years)


def is_official(year: int) -> bool:
    first, last = official_years()
    return first <= year <= last


@cache
def cn_plan(year: int) -> YearPlan:
    """China's plan for ``year``: official where known, else estimated (never an error; a
    year beyond the rules' reach, before 1950 or after 2100, has no statutory days)."""
    if is_official(year):
        return YearPlan(
            year=year,
            days_off=frozenset(d for d in chinese_calendar.constants.holidays if d.year == year),
            make_up=frozenset(d for d in chinese_calendar.constants.workdays if d.year == year),
            source=PlanSource.OFFICIAL,
        )
    rules = holidays.country_holidays("CN", years=year)
    return YearPlan(
        year=year,
        days_off=frozenset(d for d in rules if d.year == year),
        make_up=frozenset(d for d in rules.weekend_workdays if d.year == year),
        source=PlanSource.ESTIMATED,
    )
