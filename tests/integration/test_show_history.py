"""`show` reads the newest events of a ticket, oldest first, and no more than it shows; the reads
behind `show` and behind a batch of steps take one statement each."""

import asyncio
import dataclasses

from sqlalchemy import event

from bot.domain.workflow import Step
from bot.errors import UserError
from bot.services import queries
from bot.services.context import Context
from bot.services.steps import StepRequest, run_steps
from bot.sla.policy import Severity
from storage.requests import remember_replies, replies_for
from storage.stage_timers import claimed_with_timers, lock_for_steps, timers_of
from storage.ticket_reads import SHOWN_EVENTS
from tests.integration.support import opened


async def test_a_long_history_shows_its_newest_events_in_order(ctx: Context) -> None:
    number = await opened(ctx, 1)
    notes = SHOWN_EVENTS + 10
    await run_steps(
        ctx, [StepRequest(number, Step("note", text=f"note {i}"), "U0ENG1") for i in range(notes)]
    )
    view = await queries.show(ctx, number)
    texts = [e.text for e in view.events]
    assert len(view.events) == SHOWN_EVENTS and view.earlier
    assert texts == [f"note {i}" for i in range(notes - SHOWN_EVENTS, notes)]


async def test_a_history_of_exactly_the_shown_length_has_nothing_earlier(ctx: Context) -> None:
    number = await opened(ctx, 1)  # its first event: reported
    await run_steps(
        ctx,
        [
            StepRequest(number, Step("note", text=f"n{i}"), "U0ENG1")
            for i in range(SHOWN_EVENTS - 1)
        ],
    )
    view = await queries.show(ctx, number)
    assert len(view.events) == SHOWN_EVENTS and not view.earlier
    assert view.events[0].kind == "reported" and view.events[0].text is None
    await run_steps(ctx, [StepRequest(number, Step("note", text="one more"), "U0ENG1")])
    view = await queries.show(ctx, number)
    assert view.earlier and view.events[0].text == "n0" and view.events[-1].text == "one more"


async def test_a_history_line_says_the_class_a_reclassification_set(ctx: Context) -> None:
    number = await opened(ctx, 1)
    await run_steps(
        ctx, [StepRequest(number, Step("severity", severity=Severity.A, text="down"), "U0ENG1")]
    )
    view = await queries.show(ctx, number)
    assert [(e.kind, e.text, e.severity) for e in view.events][-1] == ("severity", "down", "A")
    assert not view.earlier


async def test_a_short_history_shows_every_event_oldest_first(ctx: Context) -> None:
    number = await opened(ctx, 1)
    await run_steps(ctx, [StepRequest(number, Step("ack"), "U0ENG1")])
    view = await queries.show(ctx, number)
    assert [e.kind for e in view.events] == ["reported", "ack"]


async def test_shows_asked_together_each_get_their_own_ticket(ctx: Context) -> None:
    """Shows that arrive together are read with one statement: each still gets its own
    ticket and history, a missing ticket its refusal, and a long history its newest events."""
    first, second = await opened(ctx, 1), await opened(ctx, 2)
    await run_steps(
        ctx,
        [StepRequest(first, Step("note", text=f"first {i}"), "U0ENG1") for i in range(70)]
        + [StepRequest(second, Step("ack"), "U0ENG1")],
    )
    results = await asyncio.gather(
        queries.show(ctx, second),
        queries.show(ctx, 999),
        queries.show(ctx, first),
        queries.show(ctx, second),
        return_exceptions=True,
    )
    shown_second, missing, shown_first, again = results
    assert isinstance(shown_second, queries.TicketView)
    assert isinstance(shown_first, queries.TicketView)
    assert shown_second.ticket.number == second
    assert [e.kind for e in shown_second.events] == ["reported", "ack"]
    assert not shown_second.earlier and shown_first.earlier
    assert again == shown_second
    assert isinstance(missing, UserError) and "#999" in str(missing)
    assert shown_first.ticket.number == first
    assert [e.text for e in shown_first.events] == [
        f"first {i}" for i in range(70 - SHOWN_EVENTS, 70)
    ]


async def test_a_step_batch_reads_tickets_with_their_timers(ctx: Context) -> None:
    """One statement gives what the step needs: the tickets and every timer of each."""
    first, second = await opened(ctx, 1), await opened(ctx, 2, Severity.C)
    async with ctx.db.write() as conn:
        tickets, timers = await claimed_with_timers(conn, [first, second, 999])
        expected = await timers_of(conn, [first, second, 999])
    assert set(tickets) == {first, second}
    assert tickets[first].severity is Severity.B and tickets[second].severity is Severity.C
    assert timers == expected
    assert timers[999] == []
    assert any(t.fired_at is None for t in timers[first])  # its next stage, pending


async def test_a_step_batch_reads_the_replies_of_earlier_requests_with_its_tickets(
    ctx: Context,
) -> None:
    number = await opened(ctx, 1)
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        await remember_replies(conn, [("cmd:1", "You acknowledged #1."), ("cmd:2", "")], now=now)
    async with ctx.db.write() as conn:
        tickets, timers, replies = await lock_for_steps(
            conn, [number], ["cmd:1", "cmd:2", "cmd:new"]
        )
        assert replies == await replies_for(conn, ["cmd:1", "cmd:2", "cmd:new"])
        assert (tickets, timers) == await claimed_with_timers(conn, [number])
    assert replies == {"cmd:1": "You acknowledged #1.", "cmd:2": ""}
    assert list(tickets) == [number]


async def test_shows_asked_together_share_the_batcher_built_with_the_context(
    ctx: Context,
) -> None:
    """The reads behind `show` are batched by the batcher the composition root hands on the
    context (``Context.shows``): shows asked together are one read of their tickets."""
    first, second = await opened(ctx, 1), await opened(ctx, 2)
    batched = dataclasses.replace(ctx, shows=queries.show_reads(ctx.db))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM tickets" in statement and "ticket_events" not in statement:
            statements.append(statement)

    event.listen(ctx.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        shown = await asyncio.gather(*(queries.show(batched, n) for n in (first, second, first)))
    finally:
        event.remove(ctx.db.engine.sync_engine, "before_cursor_execute", seen)
    assert [view.ticket.number for view in shown] == [first, second, first]
    assert len(statements) == 1
    alone = await asyncio.gather(*(queries.show(ctx, n) for n in (first, second)))
    assert [view.ticket.number for view in alone] == [first, second]  # no batcher: each alone
