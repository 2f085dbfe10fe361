"""Use case: a reporter submits the report form and a numbered ticket is opened.

Reports that arrive together are stored together (group commit, :class:`ReportIntake`):
one transaction takes their numbers, inserts the tickets, their first events, their first
timers and the notices Slack is owed. Each report is still all-or-nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from bot.domain.record import snapshot
from bot.domain.rotation import OnCall
from bot.domain.tickets import NewTicket, Promise, ReportDraft, Ticket, TicketState, open_ticket
from bot.domain.workflow import Prompt
from bot.services.arming import plan_for, stage_notices
from bot.services.context import Context
from bot.services.estimates import tell_estimated
from bot.services.group_commit import Batcher
from bot.services.oncall import rotation_at
from bot.services.patience import PATIENCE, patiently
from bot.services.readers import to_one
from bot.sla.deadlines import Deadlines
from bot.sla.stages import Stage, StageOutcome, catch_up, next_stage
from bot.slack.i18n import Translator, channel_link, mention
from bot.slack.ticket_card import approval_request
from bot.slack.triage_text import meaning
from storage import outbox
from storage import stage_timers as timer_store
from storage import tickets as ticket_store
from storage.outbox import NewNotice
from storage.stage_timers import Arm
from storage.tickets import NewEvent

log = logging.getLogger(__name__)

Submission = tuple[ReportDraft, str | None]  # the draft and its intake key (the view id)


@dataclass(frozen=True)
class ReportOutcome:
    ticket: Ticket
    created: bool  # False when the same submission had already opened this ticket


async def report(ctx: Context, *, draft: ReportDraft, intake_key: str | None) -> ReportOutcome:
    """Store one report (a batch of one). ``intake_key`` identifies the submission: the same
    submission delivered twice opens one ticket."""
    (outcome,) = await report_many(ctx, [(draft, intake_key)])
    return outcome


class ReportIntake:
    """Reports submitted together share a transaction (:mod:`bot.services.group_commit`)."""

    def __init__(self, ctx: Context, *, max_batch: int = 64, patience: float = PATIENCE) -> None:
        self._batcher: Batcher[Submission, ReportOutcome] = Batcher(
            lambda items: report_many(ctx, items), max_batch=max_batch
        )
        self._patience = patience

    async def submit(self, draft: ReportDraft, intake_key: str | None) -> ReportOutcome:
        """Store the report once; a database error is the caller's."""
        return await self._batcher.submit((draft, intake_key))

    async def store(self, draft: ReportDraft, intake_key: str | None) -> ReportOutcome:
        """:meth:`submit`, tried again while the database is away (:mod:`bot.services.patience`):
        the reporter was told the report is being saved. The intake key makes the tries open
        one ticket."""
        return await patiently(
            lambda: self.submit(draft, intake_key), patience=self._patience, what="a report"
        )


async def report_many(ctx: Context, items: Sequence[Submission]) -> list[ReportOutcome]:
    """Store the tickets and their first events, arm their timers and owe Slack their messages,
    in one transaction; one outcome per item, in order. A form stored at the same moment by
    another replica (a double click sent to both) is found, not stored twice: the ticket
    counter is held before the forms' keys are looked for."""
    now = ctx.clock.now()
    news = [_new_ticket(ctx, draft, now) for draft, _ in items]
    keys = [key for _, key in items if key is not None]
    async with ctx.db.write() as conn:
        if keys:  # the same submission stored at the same moment by another replica: seen
            await ticket_store.lock_numbers(conn)
        existing = await ticket_store.find_by_intake_keys(conn, keys)
        fresh: list[tuple[NewTicket, str | None]] = []
        seen: set[str] = set()
        for new, (_, key) in zip(news, items, strict=True):
            if key is None or (key not in existing and key not in seen):
                fresh.append((new, key))
                if key is not None:
                    seen.add(key)
        numbers = await ticket_store.take_numbers(conn, len(fresh)) if fresh else range(0)
        plans = _Plans(ctx, now)
        created = await ticket_store.insert_many(
            conn,
            [(new, n, key) for (new, key), n in zip(fresh, numbers, strict=True)],
            now=now,
            promised=plans.promised,  # stored with the tickets, for the review and lists
        )
        await ticket_store.append_events(
            conn,
            [NewEvent(t.number, t.reporter_id, "reported", {}, snapshot(t)) for t in created],
            at=now,
        )
        arms, fired, owed = await _first_stages(ctx, conn, created, now, plans)
        await timer_store.arm_new(conn, arms, version=1, now=now)
        owed |= await outbox.enqueue_many(
            conn,
            [n for t in created for n in _first_notices(ctx, t)] + fired,
            now=now,
            channels={t.number: t.post_channel for t in created},
            unposted=[t.number for t in created],  # their messages are still to be posted
        )
    by_key = {**existing, **{key: t for t, (_, key) in zip(created, fresh, strict=True) if key}}
    fresh_iter = iter(created)
    outcomes: list[ReportOutcome] = []
    handed: set[str] = set()
    for _, key in items:
        if key is not None and (key in existing or key in handed):
            outcomes.append(ReportOutcome(by_key[key], created=False))
            continue
        ticket = next(fresh_iter)
        if key is not None:
            handed.add(key)
        outcomes.append(ReportOutcome(ticket, created=True))
        log.info(
            "ticket reported severity=%s",
            ticket.severity,
            extra={"ticket": ticket.number, "user": ticket.reporter_id},
        )
    if created:
        ctx.wake_delivery(owed)
        first_due = min((arm.due_at for _, arm in arms if arm.outcome is None), default=None)
        if first_due is not None:
            ctx.wake_engine(first_due)
    return outcomes


@dataclass(frozen=True)
class _Plan:
    """A new ticket's deadlines, its stages at the report time (those due at once to send
    and to pass over, :func:`catch_up`, and the next one to arm), and its promise."""

    deadlines: Deadlines | None
    send: list[Stage]
    skip: list[Stage]
    next: list[Stage]
    promise: Promise  # what is stored of its deadlines


class _Plans:
    """The new tickets' plans (:func:`bot.services.arming.plan_for`). New tickets of one
    batch share the report time: one plan per class and state."""

    def __init__(self, ctx: Context, now: datetime) -> None:
        self.ctx, self.now = ctx, now
        self.by_shape: dict[tuple[object, ...], _Plan] = {}

    def of(self, ticket: Ticket) -> _Plan:
        shape = (ticket.severity, ticket.in_warranty, ticket.state)
        plan = self.by_shape.get(shape)
        if plan is None:
            deadlines, stages = plan_for(self.ctx, ticket, self.now)
            send, skip = catch_up([s for s in stages if s.due <= self.now])
            after = next_stage(stages, after=self.now)
            promise = self.ctx.promised(ticket, deadlines)
            plan = self.by_shape[shape] = _Plan(deadlines, send, skip, after, promise)
        return plan

    def promised(self, ticket: Ticket) -> Promise:
        return self.of(ticket).promise


async def _first_stages(
    ctx: Context, conn: AsyncConnection, created: Sequence[Ticket], now: datetime, plans: _Plans
) -> tuple[list[tuple[int, Arm]], list[NewNotice], frozenset[str]]:
    """The new tickets' timers, with the stages due at once (the on-call page of an A or B
    report) fired here rather than by the engine a moment later, and the conversations
    owed a notice of an estimated year."""
    arms: list[tuple[int, Arm]] = []
    notices: list[NewNotice] = []
    oncall: OnCall | None = None
    for ticket in created:
        plan = plans.of(ticket)
        arms += [(ticket.number, Arm(s.key, s.due, StageOutcome.SENT)) for s in plan.send]
        arms += [(ticket.number, Arm(s.key, s.due, StageOutcome.SUPERSEDED)) for s in plan.skip]
        arms += [(ticket.number, Arm(s.key, s.due)) for s in plan.next]
        if plan.send and oncall is None:
            oncall = (await rotation_at(conn, ctx.config, now)).at(now)
        for stage in plan.send:
            assert oncall is not None
            notices += stage_notices(ctx.config, ticket, stage, plan.deadlines, now, oncall)
    estimated = {
        year
        for plan in plans.by_shape.values()
        if plan.deadlines
        for year in plan.deadlines.estimated_years
    }
    told = await tell_estimated(conn, ctx.config, estimated, now=now)
    return arms, notices, told


def _new_ticket(ctx: Context, draft: ReportDraft, now: datetime) -> NewTicket:
    """The ticket opened at ``now``, the batch's time (so its report-time page is due at
    once and fires with the report, not a moment later from the timer engine)."""
    config = ctx.config
    customer = config.customer_for_channel(draft.origin_channel or "")
    return open_ticket(
        draft,
        reported_at=now,
        reported_on=now.astimezone(config.tz).date(),
        support_channel=config.channels.support,
        customer=customer.name if customer else None,
        customer_channel=customer.channel if customer else None,
        warranty_until=customer.warranty_until if customer else None,
        policy=config.policy,
    )


def _first_notices(ctx: Context, ticket: Ticket) -> list[NewNotice]:
    """The ticket message, the first line of its thread, the reporter's DM, and for an
    out-of-warranty request the managers' question."""
    number = ticket.number
    tr = ctx.tr  # the workspace's language, for the thread; each DM in its reader's
    opened = tr(
        "%(ref)s opened by %(reporter)s, class %(severity)s: %(meaning)s.",
        ref=ticket.ref,
        reporter=mention(ticket.reporter_id),
        severity=ticket.severity.value,
        meaning=meaning(tr, ticket.severity),
    )
    config = ctx.config

    def told(tr: Translator) -> str:  # what only the reporter reads: in their language
        if ticket.state is TicketState.AWAITING_APPROVAL:
            return tr(
                "Your report is ticket %(ref)s, class %(severity)s, an out-of-warranty "
                "request: a manager first accepts or declines it, and you will be told which. "
                "Follow it in %(channel)s.",
                ref=ticket.ref,
                severity=ticket.severity.value,
                channel=channel_link(ticket.post_channel),
            )
        return tr(
            "Your report is ticket %(ref)s, class %(severity)s. Follow it in %(channel)s.",
            ref=ticket.ref,
            severity=ticket.severity.value,
            channel=channel_link(ticket.post_channel),
        )

    notices = [
        NewNotice(number, NoticeKind.TICKET_MESSAGE, {}),
        NewNotice(number, NoticeKind.THREAD, {"text": opened}),
        NewNotice(number, NoticeKind.DM, {"user": ticket.reporter_id, **to_one(config, told)}),
    ]
    if ticket.state is TicketState.AWAITING_APPROVAL:
        ask = to_one(config, partial(approval_request, ticket=ticket))
        prompt = Prompt.APPROVAL.value
        notices += [
            NewNotice(number, NoticeKind.DM, {"user": m, "prompt": prompt, **ask})
            for m in config.roles.managers
        ]
    return notices
