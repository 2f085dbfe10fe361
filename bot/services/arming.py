"""Arming timers, and what a fired stage sends. Every use case that changes a ticket's
deadlines calls :func:`replace_timers` inside its transaction, and ``ctx.wake_engine(due)``
after the commit."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.domain.escalation import Audience, recipients
from bot.domain.notices import NoticeKind
from bot.domain.rotation import OnCall
from bot.domain.tickets import Ticket, deadlines_of
from bot.services.context import Context
from bot.services.estimates import tell_estimated
from bot.sla.calendar import CalendarRangeError
from bot.sla.deadlines import Deadlines
from bot.sla.stages import (
    Stage,
    StageKind,
    next_stage,
    ticket_stages,
    unfired,
)
from bot.slack import paging as blocks_pages
from storage import review as review_store
from storage import stage_timers as timer_store
from storage.outbox import NewNotice
from storage.stage_timers import Arm, StoredTimer

log = logging.getLogger(__name__)


def plan_for(ctx: Context, ticket: Ticket, now: datetime) -> tuple[Deadlines | None, list[Stage]]:
    """The ticket's deadlines and every stage it has at ``now`` by the pure rules (fired
    ones included). An instant beyond the calendar's years (an agreed fix date at the end of
    the year 9999) arms nothing."""
    config = ctx.config
    try:
        deadlines = deadlines_of(ticket, policy=config.policy, calendar=config.calendar)
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


async def replace_timers(
    conn: AsyncConnection,
    ctx: Context,
    tickets: Sequence[Ticket],
    *,
    stored: Mapping[int, Sequence[StoredTimer]] | None = None,
) -> datetime | None:
    """Recompute each ticket's next stage and replace its stored pending one, in the caller's
    transaction. Stages that fired already stay fired and are not armed again. Pass the
    tickets as saved (their new versions), and their timers if the transaction has read them
    already (``timer_store.lock_with_timers``); returns when the first armed stage is due,
    for ``ctx.wake_engine(due)`` after the commit. Managers are told of a year whose
    holidays are estimated that a deadline now depends on (once per year)."""
    now = ctx.clock.now()
    if stored is None:
        stored = await timer_store.timers_of(conn, [t.number for t in tickets])
    rearms: list[timer_store.Rearm] = []
    estimated: set[int] = set()
    for_review: list[tuple[Ticket, Deadlines | None]] = []
    for ticket in tickets:
        deadlines, stages = plan_for(ctx, ticket, now)
        for_review.append((ticket, ctx.promised(ticket, deadlines)))
        if deadlines is not None:
            estimated.update(deadlines.estimated_years)
        fired = {t.key for t in stored[ticket.number] if t.fired_at is not None}
        arms = [Arm(s.key, s.due) for s in next_stage(unfired(stages, fired))]
        rearms.append(timer_store.Rearm(ticket.number, ticket.version, arms))
    await timer_store.rearm_many(conn, rearms, stored, now=now)
    await tell_estimated(conn, ctx.config, estimated, now=now)
    await review_store.store_deadlines(conn, for_review)  # for the month's review
    return min((arm.due_at for r in rearms for arm in r.arms), default=None)


def stage_notices(
    config: Config,
    ticket: Ticket,
    stage: Stage,
    deadlines: Deadlines | None,
    now: datetime,
    oncall: OnCall,
) -> list[NewNotice]:
    """The notices a fired stage sends: thread lines, pages by DM, managers-channel notices."""
    notices: list[NewNotice] = []
    due = (deadlines.as_dict() if deadlines else {}).get(stage.milestone.value, stage.due)
    for to in recipients(stage, ticket=ticket, oncall=oncall, managers=config.roles.managers):
        payload: dict[str, Any] = {"stage": stage.key}
        if to.audience is Audience.THREAD:
            kind = NoticeKind.THREAD
            if stage.kind is StageKind.REMINDER:
                text = blocks_pages.reminder(ticket, stage, due=due, now=now, who=to.user)
            else:
                text = blocks_pages.thread_note(ticket, stage, due=due, now=now, who=to.user)
            payload["text"] = text
        elif to.audience is Audience.DM:
            kind = NoticeKind.PAGE
            text, body = blocks_pages.page(ticket, stage, due=due, now=now)
            payload |= {"user": to.user, "text": text, "blocks": body}
        else:
            kind = NoticeKind.MANAGERS
            notice = (
                blocks_pages.breach_notice if stage.kind is StageKind.BREACH else blocks_pages.page
            )
            text, body = notice(ticket, stage, due=due, now=now)
            payload |= {"channel": config.channels.managers, "text": text, "blocks": body}
        notices.append(NewNotice(ticket.number, kind, payload))
    return notices
