"""What the managers are told about the holiday calendar: a year whose holidays are
estimated (no published plan in the installed data), and a year that became official."""

from __future__ import annotations

from bot.slack.i18n import Translator


def estimated_year(tr: Translator, year: int) -> str:
    return tr(
        ":calendar: *No official holiday plan for %(year)s yet.* The installed holiday data "
        "does not know %(year)s, so its statutory holidays are estimated from the holiday "
        "law's rules, without make-up working days. Deadlines of class C and D tickets that "
        "reach into %(year)s are marked provisional.\n"
        "To make %(year)s official: upgrade `chinesecalendar` once the State Council publishes "
        "the plan, or list %(year)s's days off and make-up working days in "
        "`calendar.extra_holidays` and `calendar.extra_workdays` and add %(year)s to "
        "`calendar.own_holiday_years`. Open tickets follow at the next start.",
        year=year,
    )


def official_year(tr: Translator, year: int) -> str:
    return tr(
        ":calendar: *The holiday plan for %(year)s is official now.* Open tickets' deadlines "
        "follow it; they are no longer provisional.",
        year=year,
    )
