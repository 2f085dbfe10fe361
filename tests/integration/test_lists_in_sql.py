"""`/ticket list` and the App Home are read with one ordered, LIMITed statement over each
ticket's stored next deadline: with well over a hundred tickets in every state, each list
holds exactly the tickets and the order that working out every ticket's deadlines on the
calendar gives (the way the lists were computed before), and its count is all of them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from bot.domain.read_models import Listing
from bot.domain.tickets import ACTIVE, OPEN_STATES, NextDue, ReportDraft, Ticket, TicketState
from bot.domain.workflow import Step
from bot.errors import UserError
from bot.services import queries
from bot.services.calendar_start import follow_calendar
from bot.services.context import Context
from bot.services.intake import report_many
from bot.services.steps import StepRequest, run_steps
from bot.sla.policy import Severity
from bot.slack.views import MAX_LISTED
from storage import tickets as ticket_store
from storage.review import NO_DUE
from tests.fakes import FakeClock

ROUNDS, PER_ROUND = 6, 22  # 132 tickets, reported 37 minutes apart round by round
CLASSES = (Severity.A, Severity.B, Severity.C, Severity.D)
# What is done to the k-th ticket (by k % 12): every state a list must order or leave out.
WORK: dict[int, list[Step]] = {
    0: [Step("ack")],
    1: [Step("ack"), Step("cause", text="disk full")],
    2: [Step("ack"), Step("cause", text="disk full"), Step("plan", text="clean up")],
    3: [Step("ack"), Step("resolve", text="cleaned")],
    4: [Step("ack"), Step("resolve", text="cleaned"), Step("close")],
    5: [Step("ack"), Step("wait")],
    6: [Step("assign", user="U0ENG3")],
    7: [Step("ack"), Step("resolve", text="cleaned"), Step("close"), Step("reopen")],
    8: [Step("severity", severity=Severity.A)],
}
Row = tuple[int, NextDue | None]  # a listed ticket: its number and next deadline
CHOICES = ("open", "mine", "breaching", "A", "B", "C", "D")


async def _many_tickets(ctx: Context, clock: FakeClock) -> list[int]:
    numbers: list[int] = []
    for r in range(ROUNDS):
        drafts = [
            (
                ReportDraft(
                    summary=f"problem {r}.{i}",
                    details="details",
                    system="billing",
                    severity=CLASSES[(r + i) % len(CLASSES)],
                    reporter_id="U0ENG1" if i % 4 == 0 else "U0REP",
                    origin_channel=None,
                ),
                f"list:{r}:{i}",
            )
            for i in range(PER_ROUND)
        ]
        numbers += [outcome.ticket.number for outcome in await report_many(ctx, drafts)]
        await clock.advance(timedelta(minutes=37))
    for step_no in range(max(len(steps) for steps in WORK.values())):
        requests = [
            StepRequest(n, WORK[k % 12][step_no], "U0ENG1" if k % 24 < 12 else "U0ENG2")
            for k, n in enumerate(numbers)
            if k % 12 in WORK and step_no < len(WORK[k % 12]) and not _already(k, step_no)
        ]
        results = await run_steps(ctx, requests)
        refused = [r for r in results if isinstance(r, (UserError, Exception))]
        assert not refused, refused
    await clock.advance(timedelta(minutes=50))
    return numbers


def _already(k: int, step_no: int) -> bool:
    """Whether the k-th ticket is of the class its step would give it already."""
    severity = WORK[k % 12][step_no].severity
    return severity is not None and CLASSES[(k // PER_ROUND + k % PER_ROUND) % 4] is severity


def _by_hand(ctx: Context, tickets: list[Ticket], choice: str, user: str) -> list[Row]:
    """Each open ticket's earliest unmet deadline worked out on the calendar, filtered and
    ordered as the lists promise (those with none last, then by number)."""
    soon = ctx.clock.now() + timedelta(hours=1)
    rows: list[tuple[int, datetime, int, tuple[str, datetime] | None]] = []
    for ticket in tickets:
        if ticket.state not in OPEN_STATES:
            continue
        if choice in ("A", "B", "C", "D") and ticket.severity.value != choice:
            continue
        if choice == "mine" and user not in (ticket.assignee_id, ticket.reporter_id):
            continue
        pending: dict[str, datetime] = {}
        if ticket.state in ACTIVE or ticket.state is TicketState.AWAITING_APPROVAL:
            met = ticket.met_at()
            pending = {n: d for n, d in ctx.deadlines(ticket).items() if met[n] is None}
        due = min(pending.items(), key=lambda item: item[1]) if pending else None
        if choice == "breaching" and (due is None or due[1] > soon):
            continue
        rows.append((0 if due else 1, due[1] if due else NO_DUE, ticket.number, due))
    return [(number, due) for _, _, number, due in sorted(rows, key=lambda r: r[:3])]


def _listed(listing: Listing) -> list[Row]:
    return [(item.ticket.number, item.next_due) for item in listing.items]


async def _tickets(ctx: Context, numbers: list[int]) -> list[Ticket]:
    async with ctx.db.read() as conn:
        found = [await ticket_store.get_ticket(conn, n) for n in numbers]
    assert all(t is not None for t in found)
    return [t for t in found if t is not None]


async def _assert_lists_as_worked_out(ctx: Context, numbers: list[int]) -> None:
    tickets = await _tickets(ctx, numbers)
    for user in ("U0ENG1", "U0ENG3", "U0REP"):
        for choice in CHOICES:
            expected = _by_hand(ctx, tickets, choice, user)
            whole = await queries.list_tickets(ctx, choice=choice, user_id=user, limit=500)
            assert _listed(whole) == expected, (choice, user)
            assert whole.total == len(expected)
            first = await queries.list_tickets(ctx, choice=choice, user_id=user)
            assert _listed(first) == expected[:MAX_LISTED], (choice, user)
            assert first.total == len(expected)


@pytest.fixture
async def numbers(ctx: Context, clock: FakeClock) -> list[int]:
    numbers = await _many_tickets(ctx, clock)
    tickets = await _tickets(ctx, numbers)
    states = {t.state for t in tickets}
    # The data is worth testing on: every kind of ticket a list orders or leaves out.
    assert len(numbers) >= 100 and len(_by_hand(ctx, tickets, "open", "")) > MAX_LISTED
    assert {TicketState.CLOSED, TicketState.RESOLVED} <= states
    assert any(t.pauses and t.pauses[-1].end is None for t in tickets)  # waiting: stopped
    assert any(t.reopened_at is not None and t.state in OPEN_STATES for t in tickets)
    assert _by_hand(ctx, tickets, "breaching", "") and len(_by_hand(ctx, tickets, "C", "")) > 20
    names = {due[0] for _, due in _by_hand(ctx, tickets, "open", "") if due}
    assert {"respond", "diagnose"} <= names
    return numbers


async def test_every_list_holds_the_tickets_in_the_order_their_deadlines_give(
    ctx: Context, numbers: list[int]
) -> None:
    await _assert_lists_as_worked_out(ctx, numbers)


async def test_the_home_shows_the_first_of_each_list_and_counts_them_all(
    ctx: Context, numbers: list[int]
) -> None:
    tickets = await _tickets(ctx, numbers)
    home = await queries.home(ctx, "U0ENG1")  # an engineer: their own and the team's
    mine, team = _by_hand(ctx, tickets, "mine", "U0ENG1"), _by_hand(ctx, tickets, "open", "")
    assert [(i.ticket.number, i.next_due) for i in home.mine] == mine[:MAX_LISTED]
    assert home.team is not None
    assert [(i.ticket.number, i.next_due) for i in home.team] == team[:MAX_LISTED]
    assert (home.mine_total, home.team_total) == (len(mine), len(team))
    reporter = await queries.home(ctx, "U0REP")  # not staff: no team list
    assert reporter.team is None and reporter.mine_total == len(
        _by_hand(ctx, tickets, "mine", "U0REP")
    )


async def test_tickets_stored_before_the_column_get_their_deadline_at_start(
    ctx: Context, numbers: list[int]
) -> None:
    """Migration 0011 leaves every ticket with no deadline to meet; the re-arming at start
    (follow_calendar) works each open ticket's next deadline out on the calendar."""
    async with ctx.db.write() as conn:
        await conn.execute(
            update(ticket_store.TICKETS).values(next_due_at=NO_DUE, next_due_milestone=None)
        )
    stale = await queries.list_tickets(ctx, choice="open", user_id="U0ENG1")
    assert all(item.next_due is None for item in stale.items)
    await follow_calendar(ctx)
    await _assert_lists_as_worked_out(ctx, numbers)
