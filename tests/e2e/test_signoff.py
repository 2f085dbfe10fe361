"""No answer to "Is it fixed?" in 3 working days: the ticket closes by itself, on the record."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from bot.domain.workflow import Step
from bot.sandbox.standin import StoredMessage
from bot.services.steps import run_step
from bot.sla.policy import Severity
from storage import stage_timers as timer_store
from storage.tables import TicketEventRow, TicketRow
from tests.e2e.test_tickets import open_ticket
from tests.fakes import FakeClock
from tests.harness import Running


async def state(running: Running) -> tuple[str, list[str]]:
    async with running.bot.ctx.db.orm() as session:
        row = await session.get(TicketRow, 1)
        kinds = list(await session.scalars(select(TicketEventRow.kind).order_by(TicketEventRow.id)))
    assert row is not None
    return row.state, kinds


async def fire_due(running: Running) -> None:
    """Fire what is due, here and in the engine's own task, until nothing due is left. (On
    PostgreSQL the engine's task may hold a ticket that this pass then skips, and commit
    after it: SQLite's one write lock made the two take turns.)"""
    engine = running.bot.engine
    assert engine is not None
    ctx = running.bot.ctx
    for _ in range(2000):
        while await engine.fire_due():
            pass
        async with ctx.db.read() as conn:
            due = await timer_store.next_due_at(conn)
        if due is None or due > ctx.clock.now():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timers due now were not fired")


async def resolved_c_ticket(running: Running) -> None:
    """Ticket #1, class C, reported Monday 10:00 in Shanghai, acknowledged and resolved."""
    ctx = running.bot.ctx
    await open_ticket(running, Severity.C)
    await run_step(ctx, number=1, step=Step("ack"), user_id="U0ENG1")
    await run_step(ctx, number=1, step=Step("resolve", text="patched"), user_id="U0ENG1")


async def test_an_unanswered_sign_off_closes_after_three_working_days(
    running: Running, clock: FakeClock
) -> None:
    await resolved_c_ticket(running)
    await clock.advance(timedelta(days=2, hours=20))  # Thursday morning: 2.x working days
    await fire_due(running)
    assert (await state(running))[0] == "resolved"
    await clock.advance(timedelta(hours=8))  # Thursday past 10:00: 3 working days
    await fire_due(running)
    ticket_state, kinds = await state(running)
    assert ticket_state == "closed"
    assert kinds[-1] == "autoclose"
    slack = running.slack
    message = slack.messages("C0SUPPORT")[0]
    thread = await slack.wait_for(
        lambda: (
            [m for m in slack.messages("C0SUPPORT", message.ts) if "by itself" in m.text] or None
        )
    )
    assert "no answer from the reporter in 3 working days" in thread[0].text
    # The question asked in vain says so, and its buttons are gone (in the DM and thread).
    dm = slack.dm_channel("U0REP")

    def answered() -> list[StoredMessage] | None:
        found = slack.messages(dm) + slack.messages("C0SUPPORT", message.ts)
        done = [m for m in found if m.edits and "Is it fixed? #1: answered" in m.text]
        return done if len(done) == 2 else None

    asked = await slack.wait_for(answered)
    assert len(asked) == 2
    for ask in asked:
        assert "actions" not in json.dumps(ask.blocks) and "by itself" in json.dumps(ask.blocks)


async def test_an_answer_in_time_stops_the_auto_close(running: Running, clock: FakeClock) -> None:
    ctx = running.bot.ctx
    await open_ticket(running, Severity.C)
    await run_step(ctx, number=1, step=Step("resolve", text="patched"), user_id="U0ENG1")
    await run_step(ctx, number=1, step=Step("confirm", rating=5), user_id="U0REP")
    await clock.advance(timedelta(days=7))
    await fire_due(running)
    ticket_state, kinds = await state(running)
    assert ticket_state == "closed" and kinds[-1] == "confirm"


async def test_a_resolved_ticket_reclassified_still_closes_by_itself(
    running: Running, clock: FakeClock
) -> None:
    ctx = running.bot.ctx
    await resolved_c_ticket(running)
    reclass = Step("severity", text="only a wish", severity=Severity.D)
    await run_step(ctx, number=1, step=reclass, user_id="U0MGR1")
    await clock.advance(timedelta(days=3, hours=4))  # Thursday past 10:00: 3 working days
    await fire_due(running)
    ticket_state, kinds = await state(running)
    assert ticket_state == "closed" and kinds[-1] == "autoclose"
