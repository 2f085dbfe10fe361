"""Pages: due together to one person, one message naming every ticket; a page whose step
was taken says so and loses its buttons. The real bot over HTTP against the stand-in."""

from __future__ import annotations

from typing import Any

from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services.intake import report_many
from bot.sla.policy import Severity
from tests.escalation.support import draft, settle
from tests.fakes import FakeClock
from tests.harness import Running


def pages(slack: SlackStandIn, user: str) -> list[StoredMessage]:
    return slack.messages(slack.dm_channel(user))


def actions(message: StoredMessage) -> dict[str, list[str]]:
    """Each actions block of the message: its block id -> the action ids in it."""
    return {
        str(b.get("block_id")): [e["action_id"] for e in b.get("elements", [])]
        for b in message.blocks or []
        if b.get("type") == "actions"
    }


def notes(message: StoredMessage) -> list[str]:
    found: list[str] = []
    for block in message.blocks or []:
        if str(block.get("block_id", "")).endswith("_done"):
            found += [str(e.get("text")) for e in block.get("elements", [])]
    return found


async def press(
    slack: SlackStandIn, user: str, action_id: str, number: int, page: StoredMessage
) -> None:
    """``user`` presses ``action_id`` in the page's section of ticket ``number``."""
    sent = await slack.block_action(
        user=user,
        action_id=action_id,
        block_id=f"page_{number}",
        channel=page.channel,
        message_ts=page.ts,
    )
    assert sent.status == 200


async def test_pages_due_together_go_as_one_message_naming_every_ticket(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    items: list[Any] = [(draft(Severity.A, f"Lane {n} down"), None) for n in range(5)]
    outcomes = await report_many(ctx, items)
    await settle(ctx)
    [message] = pages(slack, "U0ENG1")  # the primary this week
    numbers = [o.ticket.number for o in outcomes]
    assert "5 tickets need you" in message.text
    for number in numbers:
        assert f"#{number}" in message.text
        assert actions(message)[f"page_{number}"] == ["ticket_ack", "ticket_open"]
    text = str(message.blocks)
    assert all(f"Lane {n} down" in text for n in range(5))


async def test_a_page_whose_step_was_taken_says_so_and_loses_its_buttons(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    items: list[Any] = [(draft(Severity.A, f"Lane {n} down"), None) for n in range(2)]
    first, second = (o.ticket.number for o in await report_many(ctx, items))
    await settle(ctx)
    [message] = pages(slack, "U0ENG1")
    await press(slack, "U0ENG1", "ticket_ack", first, message)

    def settled() -> bool:
        [page] = pages(slack, "U0ENG1")
        return f"page_{first}" not in actions(page)

    await slack.wait_for(settled)
    [page] = pages(slack, "U0ENG1")  # updated in place, not posted again
    assert notes(page) == [f":white_check_mark: #{first} acknowledged by <@U0ENG1>."]
    assert actions(page) == {f"page_{second}": ["ticket_ack", "ticket_open"]}
    assert page.ts == message.ts


async def test_a_managers_escalation_page_offers_take_escalate_and_open(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    [outcome] = await report_many(ctx, [(draft(Severity.C), None)])
    number = outcome.ticket.number
    await settle(ctx)
    card = slack.messages("C0SUPPORT")[0]
    sent = await slack.block_action(
        user="U0ENG1", action_id="ticket_escalate", channel="C0SUPPORT", message_ts=card.ts
    )
    assert sent.status == 200, sent.body
    [page] = await slack.wait_for(lambda: pages(slack, "U0MGR1"))
    assert actions(page) == {f"page_{number}": ["ticket_take", "ticket_escalate", "ticket_open"]}
    await press(slack, "U0MGR1", "ticket_take", number, page)
    await slack.wait_for(lambda: not actions(pages(slack, "U0MGR1")[0]))
    assert notes(pages(slack, "U0MGR1")[0]) == [f":white_check_mark: #{number} taken by <@U0MGR1>."]
