"""Use case: a step on a ticket (ack, take, cause, plan, resolve, …), one transaction each."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from bot.config import Config
from bot.domain.notices import NoticeKind
from bot.domain.roles import check_holder, check_role
from bot.domain.tickets import Ticket, TicketState, ref_of
from bot.domain.workflow import Change, Prompt, Step, apply, settled
from bot.errors import Message, UserError
from bot.services import kb
from bot.services.arming import plan_rearming, rearm
from bot.services.context import Context
from bot.services.group_commit import Batcher
from bot.services.patience import PATIENCE, patiently
from bot.services.readers import Said, to_one
from bot.sla.policy import ClockKind, Severity, Terms
from bot.slack import paging as blocks_pages
from bot.slack import ticket_card as blocks_ticket
from bot.slack.i18n import Translator, mention
from bot.slack.thread_text import story_line
from storage import outbox, requests, ticket_reads
from storage import stage_timers as timer_store
from storage import tickets as ticket_store
from storage.outbox import NewNotice
from storage.tickets import NewEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepOutcome:
    ticket: Ticket
    change: Change | None  # None when the same request was handled before (a retry)
    message: Message  # the answer to the one who asked, said in their language

    @property
    def reply(self) -> str:
        """The answer as written in the code (English): for logs and tests; people read
        ``message`` said in their language."""
        return str(self.message)


async def load(ctx: Context, number: int) -> Ticket:
    async with ctx.db.read() as conn:
        ticket = await ticket_store.get_ticket(conn, number)
    if ticket is None:
        raise UserError("There is no ticket %(ref)s.", ref=ref_of(number))
    return ticket


async def may(ctx: Context, *, number: int, step: Step, user_id: str) -> Ticket:
    """Check, without changing anything, that ``user_id`` may take ``step`` on the ticket now
    (used before opening a form such as the resolve checklist)."""
    ticket = await load(ctx, number)
    check_role(ticket, step.verb, ctx.actor(user_id))
    apply(ticket, step, actor=ctx.actor(user_id), now=ctx.clock.now())
    return ticket


@dataclass(frozen=True)
class StepRequest:
    """One step asked for: ``request_key`` names the request from Slack (trigger id, event
    id, view id), so the same request delivered again changes nothing and gets the first
    answer."""

    number: int
    step: Step
    user_id: str
    system: bool = False
    request_key: str | None = None


async def run_step(
    ctx: Context,
    *,
    number: int,
    step: Step,
    user_id: str,
    system: bool = False,
    request_key: str | None = None,
) -> StepOutcome:
    """Load, apply the rule, save, record, re-arm timers and owe Slack the story; one commit
    (a batch of one: see :class:`StepIntake` for steps that arrive together)."""
    (result,) = await run_steps(
        ctx, [StepRequest(number, step, user_id, system=system, request_key=request_key)]
    )
    if isinstance(result, UserError):
        raise result
    return result


class StepIntake:
    """Steps asked for together share a transaction (:mod:`bot.services.group_commit`)."""

    def __init__(self, ctx: Context, *, max_batch: int = 64, patience: float = PATIENCE) -> None:
        self._batcher: Batcher[StepRequest, StepOutcome | UserError] = Batcher(
            lambda items: run_steps(ctx, items), max_batch=max_batch
        )
        self._patience = patience

    async def run(self, request: StepRequest) -> StepOutcome:
        """The step's outcome; a refusal or a bad request raises its :class:`UserError`. A
        step with a request key is tried again while the database is away
        (:mod:`bot.services.patience`): the key makes the tries apply it once."""
        if request.request_key is None:
            return await self._run_once(request)
        return await patiently(
            lambda: self._run_once(request), patience=self._patience, what="a step"
        )

    async def _run_once(self, request: StepRequest) -> StepOutcome:
        result = await self._batcher.submit(request)
        if isinstance(result, UserError):
            raise result
        return result


async def run_steps(ctx: Context, batch: Sequence[StepRequest]) -> list[StepOutcome | UserError]:
    """Apply the steps in order (several on one ticket apply one after the other) and store
    what changed with one statement per table, in one transaction. A step that is refused
    changes nothing and gets its :class:`UserError` as its result; the others go on."""
    now = ctx.clock.now()
    results: list[StepOutcome | UserError] = []
    changes: list[tuple[StepRequest, Change, Message]] = []
    async with ctx.db.write() as conn:
        keys = [r.request_key for r in batch if r.request_key is not None]
        loaded, stored, replies = await timer_store.lock_for_steps(
            conn, {r.number for r in batch}, keys
        )
        current = dict(loaded)
        for request in batch:
            ticket = current.get(request.number)
            if ticket is None:
                results.append(UserError("There is no ticket %(ref)s.", ref=ref_of(request.number)))
                continue
            key = request.request_key
            if key is not None and key in replies:
                said = replies[key]
                again = Message.from_json(said) if said else Message("Done already.")
                results.append(StepOutcome(ticket, None, again))
                continue
            try:
                if request.step.verb == "assign" and request.step.user:
                    check_holder(ctx.actor(request.step.user))
                change = apply(
                    ticket,
                    _with_policy(ctx, ticket, request.step, now),
                    actor=ctx.actor(request.user_id),
                    now=now,
                    system=request.system,
                )
            except UserError as refused:
                results.append(refused)
                continue
            reply = reply_for(change, _terms(ctx, change.ticket))
            current[request.number] = change.ticket
            changes.append((request, change, reply))
            if key is not None:
                replies[key] = reply.to_json()
            results.append(StepOutcome(change.ticket, change, reply))
        if not changes:
            return results
        changed = [*{change.ticket.number: change.ticket for _, change, _ in changes}.values()]
        rearming = plan_rearming(ctx, changed, stored, now, loaded=loaded)
        await ticket_store.save_tickets(
            conn, changed, now=now, loaded=loaded, promised=rearming.promised
        )
        await ticket_store.append_events(
            conn,
            [NewEvent(r.number, r.user_id, c.kind, c.before, c.after) for r, c, _ in changes],
            at=now,
        )
        await kb.follow_steps(conn, [c for _, c, _ in changes], now=now)
        owed = await rearm(conn, ctx, rearming, stored, now=now)
        notices: list[NewNotice] = []
        for request, change, _ in changes:
            number = request.number
            notices += [
                NewNotice(number, NoticeKind.TICKET_MESSAGE, {}),
                NewNotice(
                    number,
                    NoticeKind.THREAD,
                    {"text": story_line(ctx.tr, change, request.user_id)},
                ),
            ]
            notices += [
                NewNotice(number, kind, payload)
                for kind, payload in _follow_ups(ctx, change, request.user_id, now)
            ]
            notices += settle_notices(ctx.config, change, request.user_id)
        channels = {number: ticket.post_channel for number, ticket in loaded.items()}
        owed |= await outbox.enqueue_many(conn, notices, now=now, channels=channels)
        await requests.remember_replies(
            conn,
            [
                (r.request_key, reply.to_json())
                for r, _, reply in changes
                if r.request_key is not None
            ],
            now=now,
        )
    for request, change, _ in changes:
        log.info(
            "ticket %s", change.kind, extra={"ticket": request.number, "user": request.user_id}
        )
    ctx.wake_delivery(owed)
    if rearming.next_due is not None:
        ctx.wake_engine(rearming.next_due)
    return results


def _with_policy(ctx: Context, ticket: Ticket, step: Step, now: datetime) -> Step:
    """A reclassify told whether its new class asks a manager's acceptance (SPEC §4: C and D
    out of warranty do; a ticket moved to A or B no longer waits for one), a reopen whether
    the ticket's class does; a plan told the local date (a fix date before it is in the
    past, whatever day it is in UTC)."""
    if step.verb == "plan":
        return replace(step, today=now.astimezone(ctx.config.tz).date())
    if step.verb == "reopen":
        return replace(step, needs_acceptance=_terms(ctx, ticket).needs_acceptance)
    if step.verb != "severity" or step.severity is None:
        return step
    moved = replace(ticket, severity=step.severity)
    return replace(step, needs_acceptance=_terms(ctx, moved).needs_acceptance)


def _terms(ctx: Context, ticket: Ticket) -> Terms:
    return ctx.config.policy.terms(ticket.severity, in_warranty=ticket.in_warranty)


def settle_notices(config: Config, change: Change, user_id: str) -> list[NewNotice]:
    """The prompts the change answered (a sign-off, an approval): their messages say so
    and lose their buttons, updated in place (in the thread, in the workspace's language;
    in a DM, in its reader's)."""
    t = change.ticket

    def answered(prompt: Prompt) -> Callable[[Translator], Said]:
        def say(tr: Translator) -> Said:
            outcome = story_line(tr, change, user_id)
            return blocks_ticket.answered_prompt(tr, t, prompt, outcome)

        return say

    return [
        NewNotice(
            t.number,
            NoticeKind.SETTLE,
            {"prompt": prompt.value, **to_one(config, answered(prompt))},
        )
        for prompt in settled(change)
    ]


def _follow_ups(
    ctx: Context, change: Change, user_id: str, now: datetime
) -> list[tuple[NoticeKind, dict[str, object]]]:
    """Messages beyond the thread line: the reporter's sign-off, outcomes, escalation pages."""
    t = change.ticket
    notices: list[tuple[NoticeKind, dict[str, object]]] = []
    config = ctx.config
    if change.kind == "resolve":
        ask = blocks_ticket.confirm_request(ctx.tr, t)
        signoff = Prompt.SIGNOFF.value
        notices.append(
            (NoticeKind.THREAD, {"text": ask.text, "blocks": ask.blocks, "prompt": signoff})
        )
        # what one person reads: in their language when sent (bot.services.readers)
        asked = to_one(config, partial(blocks_ticket.confirm_request, ticket=t))
        notices.append((NoticeKind.DM, {"user": t.reporter_id, "prompt": signoff, **asked}))
    elif change.kind == "reopen" and t.state is TicketState.AWAITING_APPROVAL:
        # reopened, a request no manager accepted is theirs to decide again, as at its report
        request = to_one(config, partial(blocks_ticket.approval_request, ticket=t))
        approval = Prompt.APPROVAL.value
        notices += [
            (NoticeKind.DM, {"user": manager, "prompt": approval, **request})
            for manager in config.roles.managers
        ]
    elif change.kind in ("accept", "decline"):
        told = to_one(config, partial(blocks_ticket.approval_outcome, ticket=t))
        notices.append((NoticeKind.DM, {"user": t.reporter_id, **told}))
    elif change.kind == "escalate":
        for manager in config.roles.managers:
            page = partial(
                blocks_pages.escalation_page, ticket=t, by=user_id, now=now, to=ctx.actor(manager)
            )
            paged = {"user": manager, "manager": True, "assignee": t.assignee_id}
            notices.append((NoticeKind.PAGE, paged | to_one(config, page)))
    elif change.kind == "severity" and _terms(ctx, t).clock is ClockKind.ELAPSED:
        notices.append(
            (
                NoticeKind.THREAD,
                {
                    "text": ctx.tr(
                        "%(ref)s is now class %(severity)s: its clocks run 24×7.",
                        ref=t.ref,
                        severity=t.severity.value,
                    )
                },
            )
        )
    return notices


def reply_for(change: Change, terms: Terms) -> Message:
    """The answer to the one who took the step (said in their language by the caller)."""
    t = change.ticket
    ref = t.ref
    kind = change.kind
    if kind == "assign":
        return Message("%(ref)s is assigned to %(owner)s.", ref=ref, owner=mention(t.assignee_id))
    if kind == "wait":
        if terms.pausable:
            return Message("%(ref)s waits for the customer; its clock is paused.", ref=ref)
        return Message(
            "%(ref)s waits for the customer; class %(severity)s clocks never pause.",
            ref=ref,
            severity=t.severity.value,
        )
    if kind == "severity":
        return Message(
            "%(ref)s is now class %(severity)s; its deadlines are recomputed.",
            ref=ref,
            severity=t.severity.value,
        )
    if kind == "ack" and t.severity is Severity.A:
        return Message(
            "You acknowledged %(ref)s.\n:floppy_disk: Class A: back up the data before you "
            "touch the system (JZB10-2008 §4.1 b).",
            ref=ref,
        )
    replies = {
        "ack": Message("You acknowledged %(ref)s.", ref=ref),
        "take": Message("%(ref)s is yours.", ref=ref),
        "cause": Message("Cause recorded on %(ref)s.", ref=ref),
        "plan": Message("Plan recorded on %(ref)s.", ref=ref),
        "resolve": Message(
            "%(ref)s is resolved; the reporter is asked to confirm the fix.", ref=ref
        ),
        "resume": Message("%(ref)s is running again.", ref=ref),
        "accept": Message("You accepted %(ref)s; the reporter is told.", ref=ref),
        "decline": Message("You declined %(ref)s; the reporter is told.", ref=ref),
        "note": Message("Note added to %(ref)s.", ref=ref),
        "close": Message("%(ref)s is closed.", ref=ref),
        "reopen": Message("%(ref)s is open again.", ref=ref)
        if t.state is not TicketState.AWAITING_APPROVAL
        else Message(
            "%(ref)s is open again and waits for a manager to accept or decline it.", ref=ref
        ),
        "escalate": Message("%(ref)s is escalated; the managers are paged.", ref=ref),
        "confirm": Message("Thank you! %(ref)s is closed.", ref=ref),
        "reject": Message(
            "Sorry it is not fixed. %(ref)s is open again and the engineers are told.", ref=ref
        ),
        "autoclose": Message("%(ref)s closed by itself.", ref=ref),
    }
    return replies[kind]


async def ticket_in_thread(ctx: Context, *, channel: str, thread_ts: str) -> Ticket | None:
    """The ticket whose message starts the thread ``thread_ts`` in ``channel``, if any."""
    async with ctx.db.read() as conn:
        return await ticket_reads.ticket_at_message(conn, channel, thread_ts)


async def first_time(ctx: Context, request_key: str, keep: str = "") -> bool:
    """Record a request that changes nothing stored (an offer to report, keeping the text
    offered: ``keep``); False on a retry."""
    async with ctx.db.write() as conn:
        return await requests.first_time(conn, request_key, now=ctx.clock.now(), reply=keep)


async def kept_text(ctx: Context, request_key: str) -> str | None:
    """What :func:`first_time` kept for the request, or None if it is not known."""
    async with ctx.db.read() as conn:
        found = await requests.replies_for(conn, [request_key])
    return found.get(request_key)
