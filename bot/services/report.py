"""Use case: a reporter submits the report form and a numbered ticket is opened."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.blocks_ticket import approval_request
from bot.services.context import Context
from bot.services.timers import replace_timers
from bot.tickets import ReportDraft, Ticket, TicketState, open_ticket
from bot.triage import MEANING
from bot.workflow import snapshot
from storage import outbox
from storage import tickets as ticket_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportOutcome:
    ticket: Ticket
    created: bool  # False when the same submission had already opened this ticket


async def report(ctx: Context, *, draft: ReportDraft, intake_key: str | None) -> ReportOutcome:
    """Store the ticket and its first event, then owe Slack the ticket message (outbox).

    ``intake_key`` identifies the submission (the modal's view id): the same submission
    delivered twice opens one ticket.
    """
    now = ctx.clock.now()
    config = ctx.config
    customer = config.customer_for_channel(draft.origin_channel or "")
    new = open_ticket(
        draft,
        reported_at=now,
        reported_on=now.astimezone(config.tz).date(),
        support_channel=config.channels.support,
        customer=customer.name if customer else None,
        customer_channel=customer.channel if customer else None,
        warranty_until=customer.warranty_until if customer else None,
    )
    async with ctx.db.write() as session:
        if intake_key is not None:
            existing = await ticket_store.find_by_intake_key(session, intake_key)
            if existing is not None:
                return ReportOutcome(existing, created=False)
        number = await ticket_store.next_number(session)
        ticket = await ticket_store.insert_ticket(
            session, new, number=number, intake_key=intake_key, now=now
        )
        await ticket_store.append_event(
            session,
            ticket_number=number,
            at=now,
            actor_id=draft.reporter_id,
            kind="reported",
            after=snapshot(ticket),
        )
        await replace_timers(session, ctx, ticket)
        await outbox.enqueue(
            session, ticket_number=number, kind="ticket_message", payload={}, now=now
        )
        await outbox.enqueue(
            session,
            ticket_number=number,
            kind="thread",
            payload={
                "text": (
                    f"{ticket.ref} opened by <@{ticket.reporter_id}>, class {ticket.severity}: "
                    f"{MEANING[ticket.severity]}."
                )
            },
            now=now,
        )
        await outbox.enqueue(
            session,
            ticket_number=number,
            kind="dm",
            payload={
                "user": ticket.reporter_id,
                "text": (
                    f"Your report is ticket {ticket.ref}, class {ticket.severity}. "
                    f"Follow it in <#{ticket.post_channel}>."
                ),
            },
            now=now,
        )
        if ticket.state is TicketState.AWAITING_APPROVAL:
            ask = approval_request(ticket)
            for manager in config.roles.managers:
                await outbox.enqueue(
                    session,
                    ticket_number=number,
                    kind="dm",
                    payload={"user": manager, "text": ask.text, "blocks": ask.blocks},
                    now=now,
                )
    log.info(
        "ticket reported severity=%s",
        ticket.severity,
        extra={"ticket": ticket.number, "user": draft.reporter_id},
    )
    ctx.wake_delivery()
    ctx.wake_engine()
    return ReportOutcome(ticket, created=True)
