"""Each milestone's due instant for tickets of every class (SPEC §4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserError
from bot.sla.deadlines import (
    Deadlines,
    Pause,
    compute_deadlines,
    deadlines_json,
    met_in_time,
)
from bot.sla.policy import DEFAULT_POLICY, Milestone, Severity, build_policy
from tests.sla.support import cn_calendar, ny, plain_calendar, sh, utc

CN = cn_calendar()  # 08:30-17:30 in Shanghai, a 9 h working day
H = timedelta(hours=1)
Due = tuple[datetime | None, datetime | None, datetime | None]


def compute(
    severity: str, reported_at: datetime, *, in_warranty: bool = True, **kw: object
) -> Deadlines:
    return compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=CN,
        severity=Severity(severity),
        reported_at=reported_at,
        in_warranty=in_warranty,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("severity", "in_warranty", "reported_at", "expected"),
    [
        # A and B: 24x7, also at night and on holidays; warranty makes no difference
        (
            "A",
            True,
            sh(2026, 10, 1, 3),
            (sh(2026, 10, 1, 3, 15), sh(2026, 10, 1, 4), sh(2026, 10, 1, 6)),
        ),
        (
            "A",
            False,
            sh(2026, 10, 1, 3),
            (sh(2026, 10, 1, 3, 15), sh(2026, 10, 1, 4), sh(2026, 10, 1, 6)),
        ),
        (
            "A",
            True,
            sh(2026, 2, 14, 23, 50),
            (sh(2026, 2, 15, 0, 5), sh(2026, 2, 15, 0, 50), sh(2026, 2, 15, 2, 50)),
        ),
        (
            "B",
            True,
            sh(2026, 2, 17, 22),
            (sh(2026, 2, 17, 22, 30), sh(2026, 2, 18, 2), sh(2026, 2, 18, 14)),
        ),
        (
            "B",
            False,
            sh(2026, 3, 2, 9),
            (sh(2026, 3, 2, 9, 30), sh(2026, 3, 2, 13), sh(2026, 3, 3, 1)),
        ),
        # C and D in warranty: 4 and 8 working hours, plan 1 working day after diagnose
        (
            "C",
            True,
            sh(2026, 3, 2, 8, 30),
            (sh(2026, 3, 2, 12, 30), sh(2026, 3, 2, 16, 30), sh(2026, 3, 3, 16, 30)),
        ),
        (
            "C",
            True,
            sh(2026, 3, 2, 17, 30),
            (sh(2026, 3, 3, 12, 30), sh(2026, 3, 3, 16, 30), sh(2026, 3, 4, 16, 30)),
        ),
        (
            "C",
            True,
            sh(2026, 3, 2, 7),
            (sh(2026, 3, 2, 12, 30), sh(2026, 3, 2, 16, 30), sh(2026, 3, 3, 16, 30)),
        ),
        (
            "D",
            True,
            sh(2026, 9, 30, 16),
            (sh(2026, 10, 8, 11), sh(2026, 10, 8, 15), sh(2026, 10, 9, 15)),
        ),
        (
            "C",
            True,
            sh(2026, 10, 3, 10),
            (sh(2026, 10, 8, 12, 30), sh(2026, 10, 8, 16, 30), sh(2026, 10, 9, 16, 30)),
        ),
        # reported on the make-up Saturday 10 Oct 2026: it counts; Sunday does not
        (
            "D",
            True,
            sh(2026, 10, 10, 9),
            (sh(2026, 10, 10, 13), sh(2026, 10, 10, 17), sh(2026, 10, 12, 17)),
        ),
        # Spring Festival: Sat 14 Feb works, 15-23 off
        (
            "C",
            True,
            sh(2026, 2, 13, 15),
            (sh(2026, 2, 14, 10), sh(2026, 2, 14, 14), sh(2026, 2, 24, 14)),
        ),
        # C and D out of warranty: respond 1 working day, no diagnose, plan 3 days after report
        ("C", False, sh(2026, 9, 30, 16), (sh(2026, 10, 8, 16), None, sh(2026, 10, 10, 16))),
        (
            "D",
            False,
            sh(2026, 2, 13, 8, 30),
            (sh(2026, 2, 13, 17, 30), None, sh(2026, 2, 24, 17, 30)),
        ),
    ],
)
def test_deadlines_of_each_class(
    severity: str, in_warranty: bool, reported_at: datetime, expected: Due
) -> None:
    deadlines = compute(severity, reported_at, in_warranty=in_warranty)
    assert (deadlines.respond, deadlines.diagnose, deadlines.plan) == expected
    assert deadlines.resolve is None
    assert deadlines.stopped == ()


@pytest.mark.parametrize(
    ("severity", "cause_at", "plan"),
    [
        ("A", sh(2026, 10, 1, 3, 40), sh(2026, 10, 1, 5, 40)),  # found early: counts from it
        ("A", sh(2026, 10, 1, 4, 30), sh(2026, 10, 1, 6, 30)),  # found late: counts from it
        ("B", sh(2026, 10, 1, 3, 40), sh(2026, 10, 1, 15, 40)),
        ("C", sh(2026, 10, 8, 10), sh(2026, 10, 9, 10)),
    ],
)
def test_plan_counts_from_the_cause_once_identified(
    severity: str, cause_at: datetime, plan: datetime
) -> None:
    reported = sh(2026, 10, 1, 3) if severity in "AB" else sh(2026, 9, 30, 16)
    assert compute(severity, reported, cause_at=cause_at).plan == plan


def test_out_of_warranty_plan_ignores_the_cause() -> None:
    deadlines = compute("C", sh(2026, 9, 30, 16), in_warranty=False, cause_at=sh(2026, 10, 8, 9))
    assert deadlines.plan == sh(2026, 10, 10, 16)
    assert deadlines.as_dict() == {"respond": sh(2026, 10, 8, 16), "plan": sh(2026, 10, 10, 16)}


MONDAY = sh(2026, 3, 2, 8, 30)


@pytest.mark.parametrize(
    ("pauses", "expected"),
    [
        # 9 working hours of waiting from 09:30 push every running milestone a day later
        (
            [Pause(sh(2026, 3, 2, 9, 30), sh(2026, 3, 3, 9, 30))],
            (sh(2026, 3, 3, 12, 30), sh(2026, 3, 3, 16, 30), sh(2026, 3, 4, 16, 30)),
        ),
        # a pause after the respond deadline moves only the later ones
        (
            [Pause(sh(2026, 3, 2, 13), sh(2026, 3, 2, 14))],
            (sh(2026, 3, 2, 12, 30), sh(2026, 3, 2, 17, 30), sh(2026, 3, 3, 17, 30)),
        ),
        # waiting outside working time costs nothing
        (
            [Pause(sh(2026, 3, 2, 18), sh(2026, 3, 3, 8))],
            (sh(2026, 3, 2, 12, 30), sh(2026, 3, 2, 16, 30), sh(2026, 3, 3, 16, 30)),
        ),
        # overlapping pauses count once: 09:30-12:00 is 2.5 h
        (
            [
                Pause(sh(2026, 3, 2, 10), sh(2026, 3, 2, 12)),
                Pause(sh(2026, 3, 2, 9, 30), sh(2026, 3, 2, 11)),
            ],
            (sh(2026, 3, 2, 15), sh(2026, 3, 3, 10), sh(2026, 3, 4, 10)),
        ),
        # a pause before the report is ignored
        (
            [Pause(sh(2026, 2, 27, 9), sh(2026, 3, 2, 8))],
            (sh(2026, 3, 2, 12, 30), sh(2026, 3, 2, 16, 30), sh(2026, 3, 3, 16, 30)),
        ),
        # a pause during the plan's run, after the diagnose deadline
        (
            [Pause(sh(2026, 3, 3, 9), sh(2026, 3, 3, 11))],
            (sh(2026, 3, 2, 12, 30), sh(2026, 3, 2, 16, 30), sh(2026, 3, 4, 9, 30)),
        ),
    ],
)
def test_waiting_for_the_customer_extends_c_and_d(pauses: list[Pause], expected: Due) -> None:
    for severity in "CD":
        deadlines = compute(severity, MONDAY, pauses=pauses)
        assert (deadlines.respond, deadlines.diagnose, deadlines.plan) == expected


def test_a_and_b_never_pause() -> None:
    pauses = [Pause(sh(2026, 3, 2, 8, 35), sh(2026, 3, 3, 8, 30)), Pause(sh(2026, 3, 3, 9))]
    for severity in "AB":
        assert compute(severity, MONDAY, pauses=pauses) == compute(severity, MONDAY)


def test_an_open_pause_stops_the_clock() -> None:
    deadlines = compute("C", MONDAY, pauses=[Pause(sh(2026, 3, 2, 14))])
    assert deadlines.respond == sh(2026, 3, 2, 12, 30)  # met its deadline before the pause
    assert (deadlines.diagnose, deadlines.plan) == (None, None)
    assert deadlines.stopped == (Milestone.DIAGNOSE, Milestone.PLAN)
    assert deadlines.as_dict() == {"respond": sh(2026, 3, 2, 12, 30)}
    # what the card lists: every milestone that applies, the stopped ones without a due
    assert deadlines.listed() == {"respond": sh(2026, 3, 2, 12, 30), "diagnose": None, "plan": None}


def test_a_milestone_met_while_its_clock_is_stopped_is_met_in_time() -> None:
    due = sh(2026, 3, 2, 12, 30)
    assert met_in_time(due, due)
    assert not met_in_time(due + timedelta(seconds=1), due)
    assert met_in_time(sh(2026, 3, 9), None)  # met during the pause: its due lies after it


def test_an_open_pause_after_a_resumed_one() -> None:
    pauses = [Pause(sh(2026, 3, 2, 9, 30), sh(2026, 3, 2, 10, 30)), Pause(sh(2026, 3, 2, 16))]
    deadlines = compute("D", MONDAY, pauses=pauses)
    assert deadlines.respond == sh(2026, 3, 2, 13, 30)
    assert deadlines.stopped == (Milestone.DIAGNOSE, Milestone.PLAN)


@pytest.mark.parametrize(
    ("severity", "fix_date", "resolve"),
    [
        ("C", date(2026, 10, 9), sh(2026, 10, 9, 17, 30)),  # end of that working day
        ("D", date(2026, 10, 3), sh(2026, 9, 30, 17, 30)),  # a holiday: the working day before
        ("A", date(2026, 10, 3), sh(2026, 10, 4, 0, 0)),  # A and B: end of that local day
        ("B", date(2026, 10, 9), sh(2026, 10, 10, 0, 0)),
    ],
)
def test_an_agreed_fix_date_adds_resolve(severity: str, fix_date: date, resolve: datetime) -> None:
    deadlines = compute(severity, sh(2026, 9, 30, 16), fix_date=fix_date)
    assert deadlines.resolve == resolve
    assert list(deadlines.as_dict()) == ["respond", "diagnose", "plan", "resolve"]


def test_reclassifying_recomputes_from_the_report_time() -> None:
    reported = sh(2026, 9, 30, 16)
    before = compute("C", reported)
    after = compute("B", reported)
    assert before.respond == sh(2026, 10, 8, 11)
    assert (after.respond, after.diagnose) == (sh(2026, 9, 30, 16, 30), sh(2026, 9, 30, 20))


def test_overridden_policy_is_used() -> None:
    deadlines = compute_deadlines(
        policy=build_policy({"C": {"respond": "1d"}}),
        calendar=CN,
        severity=Severity.C,
        reported_at=MONDAY,
        in_warranty=True,
    )
    assert deadlines.respond == sh(2026, 3, 2, 17, 30)


def test_a_day_is_one_working_day_of_the_calendar() -> None:
    split = cn_calendar("08:30-12:00,13:30-17:30")
    deadlines = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=split,
        severity=Severity.D,
        reported_at=MONDAY,
        in_warranty=False,
    )
    assert deadlines.respond == sh(2026, 3, 2, 17, 30)  # 7.5 h
    assert deadlines.plan == sh(2026, 3, 4, 17, 30)


def test_dst_in_new_york() -> None:
    office = plain_calendar("America/New_York", "09:00-17:00")
    a = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=office,
        severity=Severity.A,
        reported_at=ny(2026, 3, 8, 1, 30),
        in_warranty=True,
    )
    assert utc(a.diagnose) == utc(ny(2026, 3, 8, 3, 30))  # type: ignore[arg-type]
    b = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=office,
        severity=Severity.B,
        reported_at=ny(2026, 11, 1, 0, 30),
        in_warranty=True,
    )
    assert utc(b.respond) == utc(ny(2026, 11, 1, 1, 0))  # type: ignore[arg-type]
    assert utc(b.diagnose) == utc(ny(2026, 11, 1, 3, 30))  # type: ignore[arg-type]
    c = compute_deadlines(
        policy=DEFAULT_POLICY,
        calendar=office,
        severity=Severity.C,
        reported_at=ny(2026, 3, 6, 15),
        in_warranty=True,
    )
    assert c.respond == ny(2026, 3, 9, 11)
    assert c.diagnose == ny(2026, 3, 9, 15)


# -- escalator deadlines


@pytest.mark.parametrize(
    ("severity", "reported", "out", "expected"),
    [
        (
            "C",
            "2026-09-30T16:00",
            False,
            {
                "respond": "2026-10-08T11:00:00+08:00",
                "diagnose": "2026-10-08T15:00:00+08:00",
                "plan": "2026-10-09T15:00:00+08:00",
            },
        ),
        (
            "C",
            "2026-09-30T16:00",
            True,
            {"respond": "2026-10-08T16:00:00+08:00", "plan": "2026-10-10T16:00:00+08:00"},
        ),
        (
            "d",
            "2026-09-30 16:00",
            True,
            {"respond": "2026-10-08T16:00:00+08:00", "plan": "2026-10-10T16:00:00+08:00"},
        ),
        (
            "C",
            "2026-09-30T08:00:00+00:00",
            False,
            {
                "respond": "2026-10-08T11:00:00+08:00",
                "diagnose": "2026-10-08T15:00:00+08:00",
                "plan": "2026-10-09T15:00:00+08:00",
            },
        ),
        (
            Severity.A,
            "2026-10-01T03:00",
            False,
            {
                "respond": "2026-10-01T03:15:00+08:00",
                "diagnose": "2026-10-01T04:00:00+08:00",
                "plan": "2026-10-01T06:00:00+08:00",
            },
        ),
        (
            "B",
            "2026-10-01T03:00",
            True,
            {
                "respond": "2026-10-01T03:30:00+08:00",
                "diagnose": "2026-10-01T07:00:00+08:00",
                "plan": "2026-10-01T19:00:00+08:00",
            },
        ),
    ],
)
def test_deadlines_json(severity: str, reported: str, out: bool, expected: dict[str, str]) -> None:
    result = deadlines_json(
        policy=DEFAULT_POLICY,
        calendar=CN,
        severity=severity,
        reported_local=reported,
        out_of_warranty=out,
    )
    assert result == expected


@pytest.mark.parametrize(
    ("severity", "reported", "message"),
    [
        ("C", "yesterday", "not an ISO 8601 time"),
        ("C", "2026-02-30T10:00", "not an ISO 8601 time"),
        ("E", "2026-09-30T16:00", "not a class"),
        ("C", "9999-12-31T17:00", "end of the calendar"),  # the only year with no answer
        ("A", "0001-01-01T00:00", "start of the calendar"),  # 24x7, and before it in UTC
    ],
)
def test_deadlines_json_refuses_bad_input(severity: str, reported: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        deadlines_json(
            policy=DEFAULT_POLICY,
            calendar=cn_calendar(extra_holidays=["2026-12-31"]),
            severity=severity,
            reported_local=reported,
            out_of_warranty=False,
        )


def test_deadlines_are_in_the_calendar_timezone() -> None:
    deadlines = compute("A", ny(2026, 3, 2, 9))
    assert deadlines.respond is not None and deadlines.respond.tzinfo is CN.tz
    assert deadlines.respond == sh(2026, 3, 2, 22, 15)
    assert deadlines.respond - timedelta(minutes=15) == ny(2026, 3, 2, 9)


REPORTS = st.integers(0, 120 * 24 * 60).map(lambda n: sh(2026, 3, 1) + timedelta(minutes=n))
PAUSES = st.lists(
    st.tuples(st.integers(-3 * 24 * 60, 30 * 24 * 60), st.integers(1, 5 * 24 * 60)), max_size=4
)


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    joined: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


@settings(max_examples=150, deadline=None)
@given(REPORTS, PAUSES, st.sampled_from(["C", "D"]))
def test_paused_working_time_does_not_count(
    reported: datetime, offsets: list[tuple[int, int]], severity: str
) -> None:
    spans = [
        (reported + timedelta(minutes=a), reported + timedelta(minutes=a + n)) for a, n in offsets
    ]
    deadlines = compute(severity, reported, pauses=[Pause(a, b) for a, b in spans])
    plain = compute(severity, reported)
    for milestone, working in (("respond", 4 * H), ("diagnose", 8 * H)):
        due, unpaused = deadlines.as_dict()[milestone], plain.as_dict()[milestone]
        assert due >= unpaused
        paused = sum(
            (CN.between(max(a, reported), min(b, due)) for a, b in _union(spans)), timedelta(0)
        )
        assert CN.between(reported, due) - paused == working
