from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.record import replay, snapshot
from bot.domain.roles import Actor, Refused
from bot.domain.tickets import Ticket, TicketState
from bot.domain.workflow import NotAllowed, Step, apply, fits
from bot.sla.policy import Severity
from tests.factories import make_ticket

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ENGINEER = Actor("U0ENG1", engineer=True)
MANAGER = Actor("U0MGR1", manager=True)
REPORTER = Actor("U0REP")
STRANGER = Actor("U0XYZ")


def new_ticket(**changes: Any) -> Ticket:
    return make_ticket(**{"reported_at": NOW, **changes})


def test_ack_meets_respond_takes_the_ticket_and_records_before_and_after() -> None:
    change = apply(new_ticket(), Step("ack"), actor=ENGINEER, now=NOW)
    assert change.ticket.acknowledged_at == NOW
    assert change.ticket.assignee_id == "U0ENG1"
    assert change.ticket.state is TicketState.ACKNOWLEDGED
    assert change.ticket.version == 2
    assert change.before == {"state": "open", "acknowledged_at": None, "assignee_id": None}
    assert change.after["acknowledged_at"] == NOW.isoformat()


@pytest.mark.parametrize(
    ("step", "actor"),
    [
        (Step("ack"), REPORTER),
        (Step("ack"), MANAGER),
        (Step("cause", text="x"), STRANGER),
        (Step("accept"), ENGINEER),
        (Step("close"), REPORTER),
        (Step("note", text="hi"), STRANGER),
        (Step("confirm", rating=5), ENGINEER),
    ],
)
def test_without_the_role_a_step_is_refused(step: Step, actor: Actor) -> None:
    with pytest.raises(Refused):
        apply(
            new_ticket(state=TicketState.RESOLVED if step.verb == "confirm" else TicketState.OPEN),
            step,
            actor=actor,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("ticket", "step"),
    [
        (new_ticket(acknowledged_at=NOW), Step("ack")),
        (new_ticket(state=TicketState.CLOSED), Step("cause", text="x")),
        (new_ticket(cause_at=NOW, state=TicketState.DIAGNOSED), Step("cause", text="y")),
        (new_ticket(state=TicketState.OPEN), Step("accept")),
        (new_ticket(state=TicketState.OPEN), Step("reopen")),
        (new_ticket(state=TicketState.OPEN), Step("resume")),
        (new_ticket(severity=Severity.B), Step("severity", severity=Severity.B, text="r")),
        (new_ticket(state=TicketState.AWAITING_APPROVAL), Step("ack")),
        (new_ticket(), Step("plan", text="p", fix_date=date(2020, 1, 1))),
        (new_ticket(state=TicketState.CLOSED), Step("close")),
    ],
)
def test_a_step_that_does_not_fit_the_state_is_not_allowed(ticket: Ticket, step: Step) -> None:
    who = MANAGER if step.verb in ("accept", "severity") else ENGINEER
    with pytest.raises(NotAllowed):
        apply(ticket, step, actor=who, now=NOW)


def test_reporter_may_note_confirm_and_reopen_their_own_ticket() -> None:
    resolved = new_ticket(state=TicketState.RESOLVED, resolved_at=NOW)
    assert (
        apply(resolved, Step("note", text="thanks"), actor=REPORTER, now=NOW).after["text"]
        == "thanks"
    )
    closed = apply(resolved, Step("confirm", rating=4, text="quick"), actor=REPORTER, now=NOW)
    assert closed.ticket.state is TicketState.CLOSED and closed.ticket.rating == 4
    reopened = apply(closed.ticket, Step("reopen"), actor=REPORTER, now=NOW)
    assert reopened.ticket.state is TicketState.OPEN and reopened.ticket.acknowledged_at is None


def test_wait_and_resume_record_a_pause() -> None:
    waiting = apply(new_ticket(severity=Severity.C), Step("wait"), actor=ENGINEER, now=NOW).ticket
    later = NOW + timedelta(hours=2)
    resumed = apply(waiting, Step("resume"), actor=ENGINEER, now=later).ticket
    assert [(p.start, p.end) for p in resumed.pauses] == [(NOW, later)]


VERBS = [
    "ack",
    "take",
    "cause",
    "plan",
    "resolve",
    "wait",
    "resume",
    "severity",
    "note",
    "close",
    "reopen",
    "escalate",
    "confirm",
    "reject",
]


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(VERBS),
            st.sampled_from([ENGINEER, MANAGER, REPORTER]),
            st.sampled_from(list(Severity)),
            st.integers(1, 5),
        ),
        max_size=25,
    )
)
def test_replaying_the_record_gives_the_current_state(
    steps: list[tuple[str, Actor, Severity, int]],
) -> None:
    ticket = new_ticket()
    record = [snapshot(ticket)]
    now = NOW
    for verb, actor, severity, rating in steps:
        now += timedelta(minutes=7)
        step = Step(verb, text=f"{verb} text", severity=severity, rating=rating)
        try:
            change = apply(ticket, step, actor=actor, now=now)
        except (Refused, NotAllowed):
            continue
        ticket = change.ticket
        record.append(change.after)
    assert replay(ticket.number, record) == ticket


def test_an_escalation_pages_once_for_a_while_then_may_page_again() -> None:
    first = apply(new_ticket(), Step("escalate"), actor=ENGINEER, now=NOW).ticket
    with pytest.raises(NotAllowed, match="a moment ago"):  # a double click, a second presser
        apply(first, Step("escalate"), actor=ENGINEER, now=NOW + timedelta(minutes=9))
    assert fits(first, Step("escalate"), NOW)  # the messages keep their Escalate button
    later = apply(first, Step("escalate"), actor=ENGINEER, now=NOW + timedelta(minutes=10))
    assert later.ticket.extra["escalated_at"] == (NOW + timedelta(minutes=10)).isoformat()


@pytest.mark.parametrize(
    ("needs_acceptance", "state"),
    [(False, TicketState.OPEN), (True, TicketState.AWAITING_APPROVAL)],
)
def test_a_reclassify_to_a_class_that_asks_no_acceptance_opens_a_waiting_request(
    needs_acceptance: bool, state: TicketState
) -> None:
    waiting = make_ticket(state=TicketState.AWAITING_APPROVAL, severity=Severity.C)
    step = Step("severity", text="why", severity=Severity.A, needs_acceptance=needs_acceptance)
    change = apply(waiting, step, actor=MANAGER, now=NOW)
    assert change.ticket.state is state and change.ticket.severity is Severity.A
