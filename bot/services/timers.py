"""Arming timers: every use case that changes a ticket's deadlines calls :func:`replace_timers`
inside its transaction, and ``ctx.wake_engine()`` after the commit."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.context import Context
from bot.sla.calendar import CalendarRangeError
from bot.sla.deadlines import Deadlines, compute_deadlines
from bot.sla.timers import Stage, ticket_stages, unfired
from bot.tickets import Ticket
from storage import timers as timer_store
from storage.timers import Arm

log = logging.getLogger(__name__)


def plan_for(ctx: Context, ticket: Ticket, now: datetime) -> tuple[Deadlines | None, list[Stage]]:
    """The ticket's deadlines and every stage it has at ``now`` by the pure rules (fired
    ones included). A deadline in a year the holiday calendar does not know arms nothing."""
    config = ctx.config
    try:
        deadlines = compute_deadlines(
            policy=config.policy,
            calendar=config.calendar,
            severity=ticket.severity,
            reported_at=ticket.reported_at,
            in_warranty=ticket.in_warranty,
            cause_at=ticket.cause_at,
            pauses=ticket.pauses,
            fix_date=ticket.fix_date,
        )
        return deadlines, ticket_stages(
            ticket=ticket,
            deadlines=deadlines,
            terms=config.policy.terms(ticket.severity, in_warranty=ticket.in_warranty),
            calendar=config.calendar,
            now=now,
        )
    except CalendarRangeError as error:
        log.error("no timers armed: %s", error, extra={"ticket": ticket.number})
        return None, []


async def replace_timers(session: AsyncSession, ctx: Context, ticket: Ticket) -> None:
    """Recompute the ticket's pending stages and replace the stored ones, in the caller's
    transaction. Stages that fired already stay fired and are not armed again. Pass the
    ticket as saved (its new version); call ``ctx.wake_engine()`` after the commit."""
    now = ctx.clock.now()
    _, stages = plan_for(ctx, ticket, now)
    fired = await timer_store.fired_keys(session, ticket.number)
    await timer_store.rearm(
        session,
        ticket_number=ticket.number,
        version=ticket.version,
        now=now,
        arms=[Arm(stage.key, stage.due) for stage in unfired(stages, fired)],
    )
