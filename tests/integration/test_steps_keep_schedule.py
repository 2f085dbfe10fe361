"""A step that moves no field of its ticket (a note) keeps the ticket's deadlines and pending
stage as the rules last set them, without asking the rules again; any other step asks them."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.tickets import Ticket
from bot.domain.workflow import Step
from bot.services import arming
from bot.services.arming import plan_rearming
from bot.services.context import Context
from bot.services.steps import StepRequest, run_steps
from bot.sla.policy import Severity
from storage import stage_timers as timer_store
from storage import tickets as ticket_store
from storage.tables import TicketRow
from tests.fakes import FakeClock
from tests.integration.support import opened

STORED_DEADLINES = (
    TicketRow.respond_due,
    TicketRow.diagnose_due,
    TicketRow.plan_due,
    TicketRow.resolve_due,
    TicketRow.next_due_at,
    TicketRow.next_due_milestone,
)


async def _state(
    ctx: Context, number: int
) -> tuple[Ticket, list[tuple[str, datetime, int]], tuple[object, ...]]:
    async with ctx.db.write() as conn:
        ticket = await ticket_store.get_ticket(conn, number)
        timers = (await timer_store.timers_of(conn, [number]))[number]
        deadlines = (
            await conn.execute(select(*STORED_DEADLINES).where(TicketRow.number == number))
        ).one()
    assert ticket is not None
    pending = [(t.key, t.due_at, t.version) for t in timers if t.fired_at is None]
    return ticket, pending, tuple(deadlines)


def _count_plans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The tickets the rules are asked about (``plan_for``), in order."""
    asked: list[int] = []
    real = arming.plan_for

    def counted(ctx: Context, ticket: Ticket, now: datetime) -> Any:
        asked.append(ticket.number)
        return real(ctx, ticket, now)

    monkeypatch.setattr(arming, "plan_for", counted)
    return asked


async def test_a_note_keeps_the_pending_stage_and_deadlines_with_the_new_version(
    ctx: Context, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await opened(ctx, 1, Severity.B)
    before, pending_before, deadlines_before = await _state(ctx, number)
    assert pending_before, "a class B ticket has a pending stage"
    await clock.advance(timedelta(minutes=3))
    asked = _count_plans(monkeypatch)
    await run_steps(ctx, [StepRequest(number, Step("note", text="looking"), "U0ENG1")])
    assert asked == []
    after, pending_after, deadlines_after = await _state(ctx, number)
    assert after.version == before.version + 1
    assert [(k, due) for k, due, _ in pending_after] == [(k, due) for k, due, _ in pending_before]
    assert {v for _, _, v in pending_after} == {after.version}
    assert deadlines_after == deadlines_before
    # what the rules would have armed, asked again, is what was kept
    async with ctx.db.write() as conn:
        stored = await timer_store.timers_of(conn, [number])
    (asked,) = plan_rearming(ctx, [after], stored, ctx.clock.now()).rearms
    assert [(a.key, a.due_at) for a in asked.arms] == [(k, due) for k, due, _ in pending_after]


async def test_a_step_that_moves_a_field_asks_the_rules_again(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await opened(ctx, 1, Severity.B)
    _, pending_before, deadlines_before = await _state(ctx, number)
    asked = _count_plans(monkeypatch)
    await run_steps(
        ctx,
        [
            StepRequest(number, Step("note", text="on it"), "U0ENG1"),
            StepRequest(number, Step("ack"), "U0ENG1"),
        ],
    )
    assert asked == [number]  # once, for the ticket as both steps left it
    after, pending_after, deadlines_after = await _state(ctx, number)
    assert pending_after != pending_before  # the respond stage is met: the next one is armed
    assert deadlines_after != deadlines_before  # the next deadline due moved on
    assert {v for _, _, v in pending_after} == {after.version}
