"""Arming timers, and what a fired stage sends. Every use case that changes a ticket's
deadlines calls :func:`replace_timers` inside its transaction, and ``ctx.wake_engine(due)``
after the commit."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.domain.escalation import Audience, recipients
from bot.domain.notices import NoticeKind
from bot.domain.roles import Actor
from bot.domain.rotation import OnCall
from bot.domain.tickets import Promise, Ticket, deadlines_of
from bot.services.context import Context
from bot.services.estimates import tell_estimated
from bot.services.readers import to_one
from bot.sla.calendar import CalendarRangeError
from bot.sla.deadlines import Deadlines
from bot.sla.stages import (
    Stage,
    StageKind,
    fired_keys,
    next_stage,
    ticket_stages,
    unfired,
)
from bot.slack import paging as blocks_pages
from bot.slack.i18n import translator
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


@dataclass(frozen=True)
class Rearming:
    """What re-arming tickets comes to, before anything is stored: each ticket's next stage,
    the estimated years its deadlines depend on, and its deadlines as promised (by number)."""

    rearms: list[timer_store.Rearm]
    estimated: set[int]
    promised: dict[int, Promise]
    deadlines: dict[int, Deadlines | None]  # as the rules gave them (absent: kept, a note)

    @property
    def next_due(self) -> datetime | None:
        """When the first armed stage is due (for ``ctx.wake_engine(due)`` after the commit)."""
        return min((arm.due_at for r in self.rearms for arm in r.arms), default=None)


def plan_rearming(
    ctx: Context,
    tickets: Sequence[Ticket],
    stored: Mapping[int, Sequence[StoredTimer]],
    now: datetime,
    *,
    loaded: Mapping[int, Ticket] | None = None,
) -> Rearming:
    """Each ticket's next stage by the pure rules; stages that fired already (``stored``)
    are not armed again. Pass the tickets as saved (their new versions), and ``loaded``, as
    they were read in this transaction: a ticket no field of which moved (a note) keeps its
    deadlines and its pending stage, with its new version, without asking the rules again
    (its ``promised`` is absent: what is stored stands)."""
    rearms: list[timer_store.Rearm] = []
    estimated: set[int] = set()
    promised: dict[int, Promise] = {}
    worked_out: dict[int, Deadlines | None] = {}
    for ticket in tickets:
        before = loaded.get(ticket.number) if loaded is not None else None
        if before is not None and replace(before, version=ticket.version) == ticket:
            pending = [Arm(t.key, t.due_at) for t in stored[ticket.number] if t.fired_at is None]
            rearms.append(timer_store.Rearm(ticket.number, ticket.version, pending))
            continue
        deadlines, stages = plan_for(ctx, ticket, now)
        worked_out[ticket.number] = deadlines
        promised[ticket.number] = ctx.promised(ticket, deadlines)
        if deadlines is not None:
            estimated.update(deadlines.estimated_years)
        fired = fired_keys(
            [(t.key, t.due_at) for t in stored[ticket.number] if t.fired_at is not None],
            ticket.reclassified_at,
        )
        arms = [Arm(s.key, s.due) for s in next_stage(unfired(stages, fired))]
        rearms.append(timer_store.Rearm(ticket.number, ticket.version, arms))
    return Rearming(rearms, estimated, promised, worked_out)


async def rearm(
    conn: AsyncConnection,
    ctx: Context,
    rearming: Rearming,
    stored: Mapping[int, Sequence[StoredTimer]],
    *,
    now: datetime,
) -> frozenset[str]:
    """Store the planned stages in the caller's transaction, replacing the pending ones, and
    owe the managers a notice of a year whose holidays are estimated that a deadline now
    depends on (once per year); returns the conversations so owed. The deadlines as promised
    are the caller's to store (with the tickets: ``save_tickets(promised=…)``; or
    ``review_store.store_deadlines``)."""
    await timer_store.rearm_many(conn, rearming.rearms, stored, now=now)
    return await tell_estimated(conn, ctx.config, rearming.estimated, now=now)


async def replace_timers(
    conn: AsyncConnection,
    ctx: Context,
    tickets: Sequence[Ticket],
    *,
    stored: Mapping[int, Sequence[StoredTimer]] | None = None,
) -> Rearming:
    """Recompute each ticket's next stage and replace its stored pending one, in the caller's
    transaction, and store its deadlines as promised for the month's review. Pass the
    tickets as saved (their new versions), and their timers if the transaction has read them
    already (``timer_store.claimed_with_timers``). Returns the re-arming: its ``next_due``
    is for ``ctx.wake_engine(due)`` after the commit, its ``deadlines`` spare the caller
    working them out again."""
    now = ctx.clock.now()
    if stored is None:
        stored = await timer_store.timers_of(conn, [t.number for t in tickets])
    rearming = plan_rearming(ctx, tickets, stored, now)
    await rearm(conn, ctx, rearming, stored, now=now)
    await review_store.store_deadlines(conn, [(t, rearming.promised[t.number]) for t in tickets])
    return rearming


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
    tr = translator(config.language, config.tz)  # the thread and the managers channel
    taken = {"manager": True, "assignee": ticket.assignee_id}  # a manager's page: once taken
    for to in recipients(stage, ticket=ticket, oncall=oncall, managers=config.roles.managers):
        payload: dict[str, Any] = {"stage": stage.key}
        if to.audience is Audience.THREAD:
            kind = NoticeKind.THREAD
            if stage.kind is StageKind.REMINDER:
                text = blocks_pages.reminder(tr, ticket, stage, due=due, now=now, who=to.user)
            else:
                text = blocks_pages.thread_note(tr, ticket, stage, due=due, now=now, who=to.user)
            payload["text"] = text
        elif to.audience is Audience.DM and to.user is not None:
            kind = NoticeKind.PAGE
            user = to.user
            actor = Actor(user, config.is_engineer(user), config.is_manager(user))
            page = partial(
                blocks_pages.page, ticket=ticket, stage=stage, due=due, now=now, to=actor
            )
            said = to_one(config, page)  # sent in its reader's language (services.readers)
            payload |= {"user": user, "milestone": stage.milestone.value, **said}
            if not blocks_pages.asks_engineer(stage):  # settled once someone takes it
                payload |= taken
        else:  # settled as a manager's page is (storage.pages: a page's kinds)
            kind = NoticeKind.MANAGERS
            text, body = blocks_pages.managers_notice(tr, ticket, stage, due=due, now=now)
            payload |= {"channel": config.channels.managers, "text": text, "blocks": body}
            payload |= {"milestone": stage.milestone.value, **taken}
        urgent = stage.kind is not StageKind.REMINDER  # an escalation: before routine lines
        notices.append(NewNotice(ticket.number, kind, payload, urgent=urgent))
    return notices
