"""Steps that arrive together share one transaction, and each still stands alone."""

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.domain.tickets import TicketState
from bot.domain.workflow import Step
from bot.errors import UserError
from bot.services.context import Context
from bot.services.steps import StepIntake, StepOutcome, StepRequest, run_steps
from bot.sla.policy import Severity
from storage import tickets as ticket_store
from storage.tables import OutboxRow, ProcessedRequestRow, TicketEventRow, TicketRow, TimerRow
from tests.fakes import FakeClock
from tests.integration.support import opened


async def count(ctx: Context, table: type, **where: object) -> int:
    async with ctx.db.orm() as session:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return int(await session.scalar(query) or 0)


async def test_a_batch_applies_in_order_and_a_refusal_changes_nothing(ctx: Context) -> None:
    one, two = await opened(ctx, 1), await opened(ctx, 2)
    events_before = await count(ctx, TicketEventRow)
    notices_before = await count(ctx, OutboxRow)
    results = await run_steps(
        ctx,
        [
            StepRequest(one, Step("ack"), "U0ENG1", request_key="cmd:1"),
            StepRequest(one, Step("ack"), "U0ENG2", request_key="cmd:2"),  # acknowledged already
            StepRequest(one, Step("cause", text="disk full"), "U0ENG1", request_key="cmd:3"),
            StepRequest(999, Step("ack"), "U0ENG1", request_key="cmd:4"),  # no such ticket
            StepRequest(two, Step("ack"), "U0REP", request_key="cmd:5"),  # not an engineer
            StepRequest(one, Step("ack"), "U0ENG1", request_key="cmd:1"),  # the same request again
        ],
    )
    first, again_refused, cause, missing, not_allowed, repeat = results
    assert isinstance(first, StepOutcome) and first.ticket.version == 2
    assert isinstance(again_refused, UserError) and "already" in str(again_refused)
    assert isinstance(cause, StepOutcome) and cause.ticket.version == 3
    assert cause.ticket.cause == "disk full" and cause.ticket.acknowledged_at is not None
    assert isinstance(missing, UserError) and "#999" in str(missing)
    assert isinstance(not_allowed, UserError)
    assert isinstance(repeat, StepOutcome) and repeat.change is None
    assert repeat.reply == first.reply

    async with ctx.db.orm() as session:
        stored = {r.number: r for r in (await session.scalars(select(TicketRow))).all()}
    assert stored[one].version == 3 and stored[one].cause == "disk full"
    assert stored[two].version == 1 and stored[two].acknowledged_at is None
    assert await count(ctx, TicketEventRow) == events_before + 2  # ack and cause only
    assert await count(ctx, OutboxRow) == notices_before + 4  # message and thread line each
    keys = {"cmd:1", "cmd:2", "cmd:3", "cmd:4", "cmd:5"}
    async with ctx.db.orm() as session:
        recorded = set((await session.scalars(select(ProcessedRequestRow.key))).all())
    assert recorded & keys == {"cmd:1", "cmd:3"}  # refused requests can be tried again


async def test_concurrent_steps_share_batches_and_all_land(ctx: Context) -> None:
    numbers = [await opened(ctx, n) for n in range(20)]
    intake = StepIntake(ctx)
    outcomes = await asyncio.gather(
        *(intake.run(StepRequest(n, Step("ack"), "U0ENG1", request_key=f"c:{n}")) for n in numbers)
    )
    assert [o.ticket.state for o in outcomes] == [TicketState.ACKNOWLEDGED] * 20
    async with ctx.db.orm() as session:
        states = (await session.scalars(select(TicketRow.state))).all()
    assert set(states) == {TicketState.ACKNOWLEDGED.value}
    refused = await asyncio.gather(
        intake.run(StepRequest(numbers[0], Step("ack"), "U0ENG2", request_key="late")),
        return_exceptions=True,
    )
    assert isinstance(refused[0], UserError) and "already" in str(refused[0])


async def test_a_batch_stores_exactly_the_tickets_it_returns(
    ctx: Context, clock: FakeClock
) -> None:
    """Only changed fields are written back: what is stored must still be the whole ticket,
    with fields set, changed and cleared (closed, then reopened; waiting, then resumed)."""
    one, two = await opened(ctx, 1), await opened(ctx, 2, Severity.C)  # C: wait pauses it
    first = await run_steps(
        ctx,
        [
            StepRequest(one, Step("ack"), "U0ENG1"),
            StepRequest(two, Step("ack"), "U0ENG2"),
            StepRequest(one, Step("assign", user="U0ENG3"), "U0ENG1"),
            StepRequest(two, Step("cause", text="disk <full>"), "U0ENG2"),
            StepRequest(two, Step("wait"), "U0ENG2"),
            StepRequest(one, Step("close"), "U0ENG1"),
        ],
    )
    assert not any(isinstance(r, UserError) for r in first)
    await clock.advance(timedelta(minutes=30))
    second = await run_steps(
        ctx,
        [
            StepRequest(one, Step("reopen"), "U0ENG1"),  # clears acknowledged_at and closed_at
            StepRequest(two, Step("resume"), "U0ENG2"),  # ends the pause
        ],
    )
    for outcome in second:
        assert isinstance(outcome, StepOutcome)
        async with ctx.db.read() as conn:
            stored = await ticket_store.get_ticket(conn, outcome.ticket.number)
        assert stored == outcome.ticket
    reopened, resumed = second
    assert isinstance(reopened, StepOutcome) and isinstance(resumed, StepOutcome)
    assert reopened.ticket.closed_at is None and reopened.ticket.assignee_id == "U0ENG3"
    assert resumed.ticket.pauses and resumed.ticket.pauses[0].end is not None


async def pending_timers(ctx: Context, number: int) -> list[tuple[str, int, datetime]]:
    async with ctx.db.orm() as session:
        query = select(TimerRow.key, TimerRow.version, TimerRow.armed_at).where(
            TimerRow.ticket_number == number, TimerRow.fired_at.is_(None)
        )
        return [tuple(row) for row in (await session.execute(query)).all()]  # type: ignore[misc]


async def test_a_step_that_moves_no_stage_keeps_the_timer_row(
    ctx: Context, clock: FakeClock
) -> None:
    number = await opened(ctx, 1)
    [(key, version, armed_at)] = await pending_timers(ctx, number)
    assert version == 1
    await clock.advance(timedelta(minutes=1))
    await run_steps(ctx, [StepRequest(number, Step("note", text="looking"), "U0ENG1")])
    # The same row, as armed at the report, with the ticket's new version.
    assert await pending_timers(ctx, number) == [(key, 2, armed_at)]
    await clock.advance(timedelta(minutes=1))
    await run_steps(ctx, [StepRequest(number, Step("ack"), "U0ENG1")])  # respond is met
    [(new_key, new_version, new_armed_at)] = await pending_timers(ctx, number)
    assert (new_key, new_version, new_armed_at) != (key, 3, armed_at)
    assert new_version == 3 and new_armed_at == clock.now()
