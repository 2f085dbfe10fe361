"""`show` reads the newest events of a ticket, oldest first, and no more than it shows."""

from bot.domain.workflow import Step
from bot.services import queries
from bot.services.context import Context
from bot.services.steps import StepRequest, run_steps
from storage.tickets import SHOWN_EVENTS
from tests.integration.support import opened


async def test_a_long_history_shows_its_newest_events_in_order(ctx: Context) -> None:
    number = await opened(ctx, 1)
    notes = SHOWN_EVENTS + 10
    await run_steps(
        ctx, [StepRequest(number, Step("note", text=f"note {i}"), "U0ENG1") for i in range(notes)]
    )
    view = await queries.show(ctx, number)
    texts = [e.after.get("text") for e in view.events]
    assert len(view.events) == SHOWN_EVENTS
    assert texts == [f"note {i}" for i in range(notes - SHOWN_EVENTS, notes)]


async def test_a_short_history_shows_every_event_oldest_first(ctx: Context) -> None:
    number = await opened(ctx, 1)
    await run_steps(ctx, [StepRequest(number, Step("ack"), "U0ENG1")])
    view = await queries.show(ctx, number)
    assert [e.kind for e in view.events] == ["reported", "ack"]
