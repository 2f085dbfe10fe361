"""Years without a published holiday plan: estimated from the holiday law's rules, marked,
and replaced by official data (the config's own days) where there is some."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.sla.calendar import WorkCalendar
from bot.sla.deadlines import Pause, compute_deadlines, deadlines_json
from bot.sla.holiday_plans import PlanSource, cn_plan, official_years
from bot.sla.policy import DEFAULT_POLICY, Milestone, Severity
from tests.sla.support import WEEK, cn_calendar, plain_calendar, sh

H = timedelta(hours=1)
CN = cn_calendar()  # 08:30-17:30 in Shanghai, Monday to Friday, China's holidays

# A made-up "published" plan for 2027's Spring Festival, different from the rules' estimate
# (Feb 5-10): Feb 6-12 off, Saturday Feb 20 a make-up working day.
OFFICIAL_2027 = {
    "extra_holidays": [f"2027-02-{d:02d}" for d in range(6, 13)],
    "extra_workdays": ["2027-02-20"],
}


def own(years: list[int], **days: list[str]) -> WorkCalendar:
    return WorkCalendar.build(
        timezone="Asia/Shanghai",
        workdays=WEEK,
        hours="08:30-17:30",
        holidays="CN",
        extra_holidays=days.get("extra_holidays", []),
        extra_workdays=days.get("extra_workdays", []),
        own_holiday_years=years,
    )


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_installed_data_is_official_up_to_2026_and_2027_is_not() -> None:
    first, last = official_years()
    assert first <= 2026 <= last < 2027
    assert cn_plan(2026).source is PlanSource.OFFICIAL
    assert cn_plan(2027).estimated and cn_plan(2028).estimated
    assert not CN.is_estimated(2026)
    assert CN.is_estimated(2027) and CN.is_estimated(2028)


def test_spring_festival_2027_is_estimated_from_the_rules() -> None:
    # Lunar New Year 2027 is Saturday Feb 6: the eve and the first three days are off, and
    # the two that fall on the weekend are given back on Tuesday and Wednesday.
    assert [d for d in days(date(2027, 2, 1), date(2027, 2, 14)) if not CN.is_working_day(d)] == [
        *days(date(2027, 2, 5), date(2027, 2, 10)),
        date(2027, 2, 13),
        date(2027, 2, 14),
    ]
    assert CN.add(sh(2027, 2, 4, 17), 1 * H) == sh(2027, 2, 11, 9)
    assert cn_plan(2027).make_up == frozenset()  # unknown until published


def test_the_same_days_follow_the_official_plan_once_the_config_lists_the_year() -> None:
    official = own([2027], **OFFICIAL_2027)
    assert not official.is_estimated(2027)
    assert official.is_working_day(date(2027, 2, 5))  # the estimate had it off
    assert not official.is_working_day(date(2027, 2, 11))  # the estimate had it working
    assert official.is_working_day(date(2027, 2, 20))  # a make-up Saturday
    assert official.add(sh(2027, 2, 4, 17), 1 * H) == sh(2027, 2, 5, 9)
    assert official.estimated_years(sh(2027, 2, 4), sh(2027, 2, 20)) == ()


def test_extra_days_alone_change_the_days_but_leave_the_year_estimated() -> None:
    calendar = cn_calendar(**OFFICIAL_2027)
    assert not calendar.is_working_day(date(2027, 2, 11))
    assert not calendar.is_working_day(date(2027, 2, 5))  # the estimate still applies
    assert calendar.is_estimated(2027)


def test_2028_is_estimated_and_can_be_made_official() -> None:
    # New Year's Day 2028 is a Saturday (Monday Jan 3 off); Spring Festival Jan 25-28.
    off = [d for d in days(date(2028, 1, 1), date(2028, 1, 31)) if d.weekday() < 5]
    off = [d for d in off if not CN.is_working_day(d)]
    assert off == [date(2028, 1, 3), *days(date(2028, 1, 25), date(2028, 1, 28))]
    assert CN.between(sh(2028, 1, 24, 8, 30), sh(2028, 1, 31, 8, 30)) == 9 * H
    assert CN.estimated_years(sh(2027, 12, 31), sh(2028, 1, 3)) == (2027, 2028)

    official = own([2028], extra_holidays=["2028-01-26", "2028-01-27"])
    assert official.between(sh(2028, 1, 24, 8, 30), sh(2028, 1, 31, 8, 30)) == 3 * 9 * H
    assert official.estimated_years(sh(2027, 12, 31), sh(2028, 1, 3)) == (2027,)


def test_no_holiday_calendar_estimates_nothing() -> None:
    calendar = plain_calendar("Asia/Shanghai", "08:30-17:30")
    assert not calendar.is_estimated(2027)
    assert calendar.estimated_years(sh(2026, 1, 1), sh(2030, 1, 1)) == ()
    assert CN.elapsed.estimated_years(sh(2026, 1, 1), sh(2030, 1, 1)) == ()


def test_a_year_beyond_the_rules_reach_is_estimated_with_no_statutory_days() -> None:
    assert CN.is_estimated(2150)
    assert cn_plan(2150).days_off == frozenset()
    assert CN.is_working_day(date(2150, 1, 1))  # a Thursday, no holiday known
    assert CN.add(sh(2150, 1, 1, 8, 30), 9 * H) == sh(2150, 1, 1, 17, 30)


def test_only_the_deadlines_that_reach_an_estimated_year_are_provisional() -> None:
    found = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=CN,
        severity=Severity.C,
        reported_at=sh(2026, 12, 30, 16),
        in_warranty=True,
    )
    assert (found.respond, found.diagnose) == (sh(2026, 12, 31, 11), sh(2026, 12, 31, 15))
    assert found.plan == sh(2027, 1, 4, 15)  # Friday Jan 1 is New Year's Day (estimated)
    assert found.provisional == (Milestone.PLAN,)
    assert found.is_provisional and found.estimated_years == (2027,)


def test_official_data_makes_the_same_deadlines_final() -> None:
    official = own([2027], extra_holidays=["2027-01-01", "2027-01-04"])
    found = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=official,
        severity=Severity.C,
        reported_at=sh(2026, 12, 30, 16),
        in_warranty=True,
    )
    assert found.plan == sh(2027, 1, 5, 15)  # the listed Monday moves it
    assert not found.is_provisional and found.estimated_years == ()


def test_a_fix_date_in_an_estimated_year_makes_resolve_provisional() -> None:
    def resolve_of(fix: date) -> tuple[object, tuple[Milestone, ...]]:
        found = compute_deadlines(
            policy=DEFAULT_POLICY,
            calendar=CN,
            severity=Severity.C,
            reported_at=sh(2026, 12, 28, 9),
            in_warranty=True,
            cause_at=sh(2026, 12, 28, 10),
            fix_date=fix,
        )
        return found.resolve, found.provisional

    # Friday Jan 1 2027 is estimated off: the last working day before it is Dec 31
    assert resolve_of(date(2027, 1, 1)) == (sh(2026, 12, 31, 17, 30), (Milestone.RESOLVE,))
    assert resolve_of(date(2026, 12, 30)) == (sh(2026, 12, 30, 17, 30), ())


def test_the_24x7_classes_are_never_provisional() -> None:
    for severity in (Severity.A, Severity.B):
        found = compute_deadlines(
            policy=DEFAULT_POLICY,
            calendar=CN,
            severity=severity,
            reported_at=sh(2027, 2, 6, 10),
            in_warranty=True,
            fix_date=date(2027, 2, 8),
        )
        assert found.respond is not None and not found.is_provisional


def test_a_pause_that_reaches_an_estimated_year_makes_the_deadline_provisional() -> None:
    found = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=CN,
        severity=Severity.C,
        reported_at=sh(2026, 12, 1, 9),
        in_warranty=True,
        pauses=[Pause(sh(2026, 12, 1, 10), sh(2027, 1, 6, 9))],
    )
    assert found.respond is not None and found.respond > sh(2027, 1, 6, 9)
    assert Milestone.RESPOND in found.provisional


@pytest.mark.parametrize(
    ("severity", "reported", "expected"),
    [
        (
            "C",
            "2026-12-30T16:00",
            {
                "respond": "2026-12-31T11:00:00+08:00",
                "diagnose": "2026-12-31T15:00:00+08:00",
                "plan": "2027-01-04T15:00:00+08:00",
                "provisional": True,
            },
        ),
        (
            "C",
            "2026-12-28T09:00",
            {
                "respond": "2026-12-28T13:00:00+08:00",
                "diagnose": "2026-12-28T17:00:00+08:00",
                "plan": "2026-12-29T17:00:00+08:00",
            },
        ),
        (
            "A",
            "2027-02-06T10:00",
            {
                "respond": "2027-02-06T10:15:00+08:00",
                "diagnose": "2027-02-06T11:00:00+08:00",
                "plan": "2027-02-06T13:00:00+08:00",
            },
        ),
    ],
)
def test_deadlines_json_says_provisional_only_when_it_is(
    severity: str, reported: str, expected: dict[str, object]
) -> None:
    result = deadlines_json(
        policy=DEFAULT_POLICY,
        calendar=CN,
        severity=severity,
        reported_local=reported,
        out_of_warranty=False,
    )
    assert result == expected
    assert list(result) == list(expected)  # the milestones first, in order
