"""Use case: a step on a ticket (ack, take, cause, plan, resolve, …), one transaction each."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import blocks_ticket
from bot.errors import UserError
from bot.services.context import Context
from bot.services.timers import replace_timers
from bot.sla.policy import Severity
from bot.story import story_line
from bot.tickets import Ticket
from bot.workflow import Actor, Change, Step, apply, check_role
from storage import outbox, requests
from storage import tickets as ticket_store
from storage.outbox import NewNotice
from storage.tickets import NewEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepOutcome:
    ticket: Ticket
    change: Change | None  # None when the same request was handled before (a retry)
    reply: str


def actor(ctx: Context, user_id: str) -> Actor:
    return Actor(
        user_id, engineer=ctx.config.is_engineer(user_id), manager=ctx.config.is_manager(user_id)
    )


async def load(ctx: Context, number: int) -> Ticket:
    async with ctx.db.read() as session:
        ticket = await ticket_store.get_ticket(session, number)
    if ticket is None:
        raise UserError(f"There is no ticket #{number}.")
    return ticket


async def may(ctx: Context, *, number: int, step: Step, user_id: str) -> Ticket:
    """Check, without changing anything, that ``user_id`` may take ``step`` on the ticket now
    (used before opening a form such as the resolve checklist)."""
    ticket = await load(ctx, number)
    check_role(ticket, step, actor(ctx, user_id))
    apply(ticket, step, actor=actor(ctx, user_id), now=ctx.clock.now())
    return ticket


async def run_step(
    ctx: Context,
    *,
    number: int,
    step: Step,
    user_id: str,
    system: bool = False,
    request_key: str | None = None,
) -> StepOutcome:
    """Load, apply the rule, save, record, re-arm timers and owe Slack the story; one commit.

    ``request_key`` names the request from Slack (trigger id, event id, view id): the same
    request delivered again changes nothing and gets the first answer."""
    now = ctx.clock.now()
    who = actor(ctx, user_id)
    async with ctx.db.write() as session:
        ticket = await ticket_store.lock_ticket(session, number)
        if ticket is None:
            raise UserError(f"There is no ticket #{number}.")
        if request_key is not None and not await requests.first_time(session, request_key, now=now):
            reply = await requests.reply_for(session, request_key)
            return StepOutcome(ticket=ticket, change=None, reply=reply or "Done already.")
        change = apply(ticket, step, actor=who, now=now, system=system)
        new = change.ticket
        await ticket_store.save_ticket(session, new, now=now)
        await ticket_store.append_events(
            session, [NewEvent(number, user_id, change.kind, change.before, change.after)], at=now
        )
        next_due = await replace_timers(session, ctx, new)
        notices = [
            NewNotice(number, "ticket_message", {}),
            NewNotice(number, "thread", {"text": story_line(change, user_id)}),
        ]
        notices += [
            NewNotice(number, kind, payload) for kind, payload in _follow_ups(ctx, change, user_id)
        ]
        await outbox.enqueue_many(session, notices, now=now)
        reply = _reply(change)
        if request_key is not None:
            await requests.remember_reply(session, request_key, reply)
    log.info("ticket %s", change.kind, extra={"ticket": number, "user": user_id})
    ctx.wake_delivery()
    if next_due is not None:
        ctx.wake_engine(next_due)
    return StepOutcome(ticket=new, change=change, reply=reply)


def _follow_ups(ctx: Context, change: Change, user_id: str) -> list[tuple[str, dict[str, object]]]:
    """Messages beyond the thread line: the reporter's sign-off, outcomes, escalation pages."""
    t = change.ticket
    notices: list[tuple[str, dict[str, object]]] = []
    if change.kind == "resolve":
        ask = blocks_ticket.confirm_request(t)
        notices.append(("thread", {"text": ask.text, "blocks": ask.blocks}))
        notices.append(("dm", {"user": t.reporter_id, "text": ask.text, "blocks": ask.blocks}))
    elif change.kind in ("accept", "decline"):
        text = blocks_ticket.approval_outcome(t)
        notices.append(("dm", {"user": t.reporter_id, "text": text}))
    elif change.kind == "escalate":
        page = blocks_ticket.escalation_page(t, user_id)
        for manager in ctx.config.roles.managers:
            notices.append(("dm", {"user": manager, "text": page.text, "blocks": page.blocks}))
    elif change.kind == "severity" and t.severity in (Severity.A, Severity.B):
        notices.append(
            ("thread", {"text": f"{t.ref} is now class {t.severity}: its clocks run 24×7."})
        )
    return notices


def _reply(change: Change) -> str:
    t = change.ticket
    replies = {
        "ack": f"You acknowledged {t.ref}.",
        "take": f"{t.ref} is yours.",
        "assign": f"{t.ref} is assigned to <@{t.assignee_id}>.",
        "cause": f"Cause recorded on {t.ref}.",
        "plan": f"Plan recorded on {t.ref}.",
        "resolve": f"{t.ref} is resolved; the reporter is asked to confirm the fix.",
        "wait": f"{t.ref} waits for the customer"
        + (
            "; its clock is paused."
            if t.severity in (Severity.C, Severity.D)
            else "; class A and B clocks never pause."
        ),
        "resume": f"{t.ref} is running again.",
        "severity": f"{t.ref} is now class {t.severity}; its deadlines are recomputed.",
        "accept": f"You accepted {t.ref}; the reporter is told.",
        "decline": f"You declined {t.ref}; the reporter is told.",
        "note": f"Note added to {t.ref}.",
        "close": f"{t.ref} is closed.",
        "reopen": f"{t.ref} is open again.",
        "escalate": f"{t.ref} is escalated; the managers are paged.",
        "confirm": f"Thank you! {t.ref} is closed.",
        "reject": f"Sorry it is not fixed. {t.ref} is open again and the engineers are told.",
        "autoclose": f"{t.ref} closed by itself.",
    }
    text = replies[change.kind]
    if change.kind == "ack" and t.severity is Severity.A:
        text += (
            "\n:floppy_disk: Class A: back up the data before you touch the system "
            "(JZB10-2008 §4.1 b)."
        )
    return text


async def ticket_in_thread(ctx: Context, *, channel: str, thread_ts: str) -> Ticket | None:
    """The ticket whose message starts the thread ``thread_ts`` in ``channel``, if any."""
    async with ctx.db.read() as session:
        return await ticket_store.ticket_at_message(session, channel, thread_ts)


async def first_time(ctx: Context, request_key: str) -> bool:
    """Record a request that changes nothing stored (an offer to report); False on a retry."""
    async with ctx.db.write() as session:
        return await requests.first_time(session, request_key, now=ctx.clock.now())
