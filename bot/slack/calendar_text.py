"""What the managers are told about the holiday calendar: a year whose holidays are
estimated (no published plan in the installed data), and a year that became official."""

from __future__ import annotations


def estimated_year(year: int) -> str:
    return (
        f":calendar: *No official holiday plan for {year} yet.* The installed holiday data "
        f"does not know {year}, so its statutory holidays are estimated from the holiday "
        "law's rules, without make-up working days. Deadlines of class C and D tickets that "
        f"reach into {year} are marked provisional.\n"
        f"To make {year} official: upgrade `chinesecalendar` once the State Council publishes "
        f"the plan, or list {year}'s days off and make-up working days in "
        f"`calendar.extra_holidays` and `calendar.extra_workdays` and add {year} to "
        "`calendar.own_holiday_years`. Open tickets follow at the next start."
    )


def official_year(year: int) -> str:
    return (
        f":calendar: *The holiday plan for {year} is official now.* Open tickets' deadlines "
        "follow it; they are no longer provisional."
    )
