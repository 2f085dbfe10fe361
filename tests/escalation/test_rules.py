"""The pure rules: which stages a ticket arms, when, and what a catch-up sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.domain.escalation import Audience, Recipient, recipients
from bot.domain.rotation import OnCall
from bot.domain.tickets import Ticket
from bot.sla.deadlines import Pause, compute_deadlines
from bot.sla.policy import Milestone, Severity
from bot.sla.stages import (
    Stage,
    StageKind,
    catch_up,
    parse_key,
    ticket_stages,
    unfired,
)
from tests.escalation.support import timer_config
from tests.factories import make_ticket

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday, in working time
M = timedelta(minutes=1)


def ticket(severity: Severity, reported_at: datetime = T0, **changes: object) -> Ticket:
    return make_ticket(
        number=7, summary="s", details="d", severity=severity, reported_at=reported_at, **changes
    )


def stages(config: Config, t: Ticket, now: datetime | None = None) -> dict[str, datetime]:
    deadlines = compute_deadlines(
        policy=config.policy,
        calendar=config.calendar,
        severity=t.severity,
        reported_at=t.reported_at,
        in_warranty=t.in_warranty,
        cause_at=t.cause_at,
        pauses=t.pauses,
        fix_date=t.fix_date,
    )
    found = ticket_stages(
        ticket=t,
        deadlines=deadlines,
        terms=config.policy.terms(t.severity, in_warranty=t.in_warranty),
        calendar=config.calendar,
        now=now or t.reported_at,
    )
    return {s.key: s.due.astimezone(SH) for s in found}


@pytest.fixture
def config() -> Config:
    return timer_config()


def test_class_a_stages(config: Config) -> None:
    assert stages(config, ticket(Severity.A)) == {
        "respond:page:primary": T0,
        "respond:reminder:50": T0 + 7.5 * M,
        "respond:reminder:75": T0 + 11.25 * M,
        "respond:reminder:90": T0 + 13.5 * M,
        "respond:page:secondary": T0 + 15 * M,
        "diagnose:reminder:50": T0 + 30 * M,
        "diagnose:reminder:75": T0 + 45 * M,
        "diagnose:page:managers": T0 + 45 * M,
        "diagnose:reminder:90": T0 + 54 * M,
        "diagnose:breach": T0 + 60 * M,
        "diagnose:repeat:1": T0 + 90 * M,
        # the plan counts from the diagnose deadline until the cause is found: 60 + 120 min
        "plan:reminder:50": T0 + 120 * M,
        "plan:reminder:75": T0 + 150 * M,
        "plan:page:managers": T0 + 150 * M,
        "plan:reminder:90": T0 + 168 * M,
        "plan:breach": T0 + 180 * M,
        "plan:repeat:1": T0 + 210 * M,
    }


def test_class_b_pages_managers_at_90_percent_and_repeats_every_two_hours(config: Config) -> None:
    found = stages(config, ticket(Severity.B))
    assert found["respond:page:secondary"] == T0 + 30 * M
    assert found["diagnose:page:managers"] == T0 + 216 * M == found["diagnose:reminder:90"]
    assert found["diagnose:breach"] == T0 + 4 * 60 * M
    assert found["diagnose:repeat:1"] == T0 + 6 * 60 * M
    assert found["plan:breach"] == T0 + 16 * 60 * M


@pytest.mark.parametrize(
    ("met", "gone"),
    [
        ({"acknowledged_at": T0 + M}, ("respond",)),
        ({"cause_at": T0 + M}, ("diagnose",)),
        ({"plan_at": T0 + M}, ("plan",)),
        ({"resolved_at": T0 + M}, ("respond", "diagnose", "plan")),
        ({"closed_at": T0 + M}, ("respond", "diagnose", "plan")),
    ],
)
def test_meeting_a_milestone_stops_its_stages(
    config: Config, met: dict[str, datetime], gone: tuple[str, ...]
) -> None:
    keys = set(stages(config, ticket(Severity.A, **met)))
    for milestone in ("respond", "diagnose", "plan"):
        assert any(k.startswith(milestone) for k in keys) is (milestone not in gone), milestone


def test_the_plan_counts_from_the_cause_once_found(config: Config) -> None:
    found = stages(config, ticket(Severity.A, cause_at=T0 + 20 * M))
    assert found["plan:breach"] == T0 + 140 * M
    assert found["plan:reminder:50"] == T0 + 80 * M


def test_a_fix_date_adds_resolve_reminders(config: Config) -> None:
    t = ticket(Severity.B, plan_at=T0 + 60 * M, cause_at=T0 + 30 * M, fix_date=T0.date())
    found = stages(config, t)
    # due at local midnight; reminders over the stretch from the plan to then
    assert found["resolve:reminder:50"] == T0 + 60 * M + (14 * 60 - 60) / 2 * M
    # no page nor breach: only the card is shown again, overdue, at the deadline
    assert {k for k in found if k.startswith("resolve:") and "reminder" not in k} == {
        "resolve:overdue"
    }
    assert found["resolve:overdue"] == datetime(2026, 11, 24, tzinfo=SH)


def test_class_c_reminds_at_75_percent_across_a_holiday_weekend(config: Config) -> None:
    # Thursday 16:00 before the Mid-autumn Festival (Fri) and the weekend: the clock stops
    # from Thursday 17:30 until Monday 08:30.
    reported = datetime(2026, 9, 24, 16, 0, tzinfo=SH)
    found = stages(config, ticket(Severity.C, reported))
    monday, tuesday = datetime(2026, 9, 28, tzinfo=SH), datetime(2026, 9, 29, tzinfo=SH)
    reminders = {key: due for key, due in found.items() if ":reminder:" in key}
    assert reminders == {
        "respond:reminder:75": monday + timedelta(hours=10),
        "diagnose:reminder:75": monday + timedelta(hours=14, minutes=30),
        "plan:reminder:75": tuesday + timedelta(hours=14, minutes=37, seconds=30),
    }
    # each deadline shows the card again, overdue (C and D page no one)
    assert {key for key in found if key not in reminders} == {
        "respond:overdue",
        "diagnose:overdue",
        "plan:overdue",
    }
    assert all(config.calendar.is_working(due) for due in found.values())


def test_a_working_time_reminder_at_a_span_end_moves_to_the_next_opening(config: Config) -> None:
    # 75 % of 4 working hours from Monday 09:00 is 12:00, the end of the morning span.
    found = stages(config, ticket(Severity.D, datetime(2026, 11, 23, 9, 0, tzinfo=SH)))
    assert found["respond:reminder:75"] == datetime(2026, 11, 23, 13, 30, tzinfo=SH)


def test_a_report_at_night_counts_from_the_next_opening(config: Config) -> None:
    found = stages(config, ticket(Severity.C, datetime(2026, 11, 21, 23, 0, tzinfo=SH)))  # Sat
    assert found["respond:reminder:75"] == datetime(2026, 11, 23, 11, 30, tzinfo=SH)


def test_a_wait_for_the_customer_is_not_counted_in_a_reminder_s_percent(config: Config) -> None:
    # Class C reported Monday 10:00, waiting from 10:30 until the next Monday 10:30: the
    # clock ran 30 min before the wait and runs again after it (respond: 4 working hours,
    # due 15:30). 75 % (3 h) of it is gone at 14:30 after the wait, not at a point inside
    # the wait (where the reminder fired at once on resume, saying 75 % while 1/8 was).
    resumed = datetime(2026, 11, 30, 10, 30, tzinfo=SH)
    t = ticket(Severity.C, pauses=(Pause(T0 + 30 * M, resumed),))
    found = stages(config, t)
    assert found["respond:overdue"] == datetime(2026, 11, 30, 15, 30, tzinfo=SH)
    assert found["respond:reminder:75"] == datetime(2026, 11, 30, 14, 30, tzinfo=SH)
    # diagnose, 8 working hours: 6 h counted is 5.5 h after the wait, the end of Monday's
    # afternoon span: posted at the next opening
    assert found["diagnose:reminder:75"] == datetime(2026, 12, 1, 8, 30, tzinfo=SH)
    assert all(due >= resumed for due in found.values())


def test_out_of_warranty_c_has_respond_and_plan_only(config: Config) -> None:
    found = stages(config, ticket(Severity.C, in_warranty=False))
    assert set(found) == {
        "respond:reminder:75",
        "respond:overdue",
        "plan:reminder:75",
        "plan:overdue",
    }


@pytest.mark.parametrize(
    ("zone", "reported", "severity", "every"),
    [
        ("Europe/Berlin", datetime(2026, 10, 25, 0, 45), Severity.A, 30),  # clocks go back
        ("America/New_York", datetime(2026, 3, 7, 20, 0), Severity.B, 120),  # clocks go forward
    ],
)
def test_repeated_pages_are_spaced_in_real_time_across_a_dst_change(
    zone: str, reported: datetime, severity: Severity, every: int
) -> None:
    config = timer_config(timezone=zone)
    t = ticket(severity, reported_at=reported.replace(tzinfo=ZoneInfo(zone)))
    breach = stages(config, t)["diagnose:breach"].astimezone(UTC)
    later = stages(config, t, now=breach + (3 * every + 10) * M)
    for n in (3, 4):
        assert later[f"diagnose:repeat:{n}"].astimezone(UTC) == breach + n * every * M, n


def test_repeats_list_the_latest_due_and_the_next(config: Config) -> None:
    found = stages(config, ticket(Severity.A), now=T0 + 60 * M + 95 * M)
    repeats = sorted(k for k in found if k.startswith("diagnose:repeat"))
    assert repeats == ["diagnose:repeat:3", "diagnose:repeat:4"]
    assert found["diagnose:repeat:3"] == T0 + 150 * M


def test_catch_up_sends_the_latest_stage_of_each_milestone() -> None:
    def s(m: Milestone, kind: StageKind, minutes: int, n: int = 0) -> Stage:
        return Stage(m, kind, T0 + minutes * M, n)

    due = [
        s(Milestone.RESPOND, StageKind.REMINDER, 7, 50),
        s(Milestone.RESPOND, StageKind.PAGE_SECONDARY, 15),
        s(Milestone.DIAGNOSE, StageKind.REMINDER, 45, 75),
        s(Milestone.DIAGNOSE, StageKind.PAGE_MANAGERS, 45),
    ]
    send, skip = catch_up(due)
    assert [x.key for x in send] == [
        "respond:page:secondary",
        "diagnose:reminder:75",
        "diagnose:page:managers",
    ]
    assert [x.key for x in skip] == ["respond:reminder:50"]
    assert catch_up([]) == ([], [])
    # A deadline that only shows the card (C, D; a fix date) does not swallow the reminder
    quiet = [
        s(Milestone.RESOLVE, StageKind.REMINDER, 30, 50),
        s(Milestone.RESOLVE, StageKind.REMINDER, 45, 75),
        s(Milestone.RESOLVE, StageKind.OVERDUE, 60),
    ]
    send, skip = catch_up(quiet)
    assert [x.key for x in send] == ["resolve:reminder:75", "resolve:overdue"]
    assert [x.key for x in skip] == ["resolve:reminder:50"]


def test_unfired_and_keys_round_trip(config: Config) -> None:
    everything = stages(config, ticket(Severity.A))
    for key in everything:
        milestone, kind, number = parse_key(key)
        assert Stage(milestone, kind, T0, number).key == key
    with pytest.raises(ValueError):
        parse_key("respond:nonsense")
    assert unfired([Stage(Milestone.PLAN, StageKind.BREACH, T0)], {"plan:breach"}) == []


def test_recipients() -> None:
    oncall = OnCall("U0ENG1", "U0ENG3", T0, T0)
    t = ticket(Severity.A)
    stage = Stage(Milestone.RESPOND, StageKind.REMINDER, T0, 50)
    assert recipients(stage, ticket=t, oncall=oncall, managers=()) == [
        Recipient(Audience.THREAD, "U0ENG1")
    ]
    owned = replace(t, assignee_id="U0ENG2")
    assert recipients(stage, ticket=owned, oncall=oncall, managers=())[0].user == "U0ENG2"
    nobody = OnCall(None, None, T0, T0)
    primary = replace(stage, kind=StageKind.PAGE_PRIMARY)
    assert recipients(primary, ticket=t, oncall=nobody, managers=()) == [Recipient(Audience.THREAD)]
    page = replace(stage, kind=StageKind.PAGE_MANAGERS)
    assert recipients(page, ticket=t, oncall=oncall, managers=("U0MGR1", "U0MGR2")) == [
        Recipient(Audience.DM, "U0MGR1"),
        Recipient(Audience.DM, "U0MGR2"),
    ]
    breach = replace(stage, kind=StageKind.BREACH)
    audiences = [r.audience for r in recipients(breach, ticket=t, oncall=oncall, managers=())]
    assert audiences == [Audience.MANAGERS, Audience.THREAD]
    assert T0.astimezone(UTC) == T0
