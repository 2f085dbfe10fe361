"""Use case: a step on a ticket (ack, take, cause, plan, resolve, …), one transaction each."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.notices import NoticeKind
from bot.domain.tickets import Ticket
from bot.domain.workflow import Change, Prompt, Step, apply, check_role, settled
from bot.errors import UserError
from bot.services import kb
from bot.services.arming import plan_rearming, rearm
from bot.services.context import Context
from bot.services.group_commit import Batcher
from bot.sla.policy import ClockKind, Severity, Terms
from bot.slack import paging as blocks_pages
from bot.slack import ticket_card as blocks_ticket
from bot.slack.thread_text import story_line
from storage import outbox, requests
from storage import stage_timers as timer_store
from storage import tickets as ticket_store
from storage.outbox import NewNotice
from storage.tickets import NewEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepOutcome:
    ticket: Ticket
    change: Change | None  # None when the same request was handled before (a retry)
    reply: str


async def load(ctx: Context, number: int) -> Ticket:
    async with ctx.db.read() as conn:
        ticket = await ticket_store.get_ticket(conn, number)
    if ticket is None:
        raise UserError(f"There is no ticket #{number}.")
    return ticket


async def may(ctx: Context, *, number: int, step: Step, user_id: str) -> Ticket:
    """Check, without changing anything, that ``user_id`` may take ``step`` on the ticket now
    (used before opening a form such as the resolve checklist)."""
    ticket = await load(ctx, number)
    check_role(ticket, step, ctx.actor(user_id))
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

    def __init__(self, ctx: Context, *, max_batch: int = 64) -> None:
        self._batcher: Batcher[StepRequest, StepOutcome | UserError] = Batcher(
            lambda items: run_steps(ctx, items), max_batch=max_batch
        )

    async def run(self, request: StepRequest) -> StepOutcome:
        """The step's outcome; a refusal or a bad request raises its :class:`UserError`."""
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
    changes: list[tuple[StepRequest, Change, str]] = []
    async with ctx.db.write() as conn:
        keys = [r.request_key for r in batch if r.request_key is not None]
        loaded, stored, replies = await timer_store.lock_for_steps(
            conn, {r.number for r in batch}, keys
        )
        current = dict(loaded)
        for request in batch:
            ticket = current.get(request.number)
            if ticket is None:
                results.append(UserError(f"There is no ticket #{request.number}."))
                continue
            key = request.request_key
            if key is not None and key in replies:
                results.append(StepOutcome(ticket, None, replies[key] or "Done already."))
                continue
            try:
                change = apply(
                    ticket,
                    request.step,
                    actor=ctx.actor(request.user_id),
                    now=now,
                    system=request.system,
                )
            except UserError as refused:
                results.append(refused)
                continue
            reply = _reply(change, _terms(ctx, change.ticket))
            current[request.number] = change.ticket
            changes.append((request, change, reply))
            if key is not None:
                replies[key] = reply
            results.append(StepOutcome(change.ticket, change, reply))
        if not changes:
            return results
        changed = [*{change.ticket.number: change.ticket for _, change, _ in changes}.values()]
        rearming = plan_rearming(ctx, changed, stored, now)
        await ticket_store.save_tickets(
            conn, changed, now=now, loaded=loaded, promised=rearming.promised
        )
        await ticket_store.append_events(
            conn,
            [NewEvent(r.number, r.user_id, c.kind, c.before, c.after) for r, c, _ in changes],
            at=now,
        )
        await kb.follow_steps(conn, [c for _, c, _ in changes], now=now)
        await rearm(conn, ctx, rearming, stored, now=now)
        notices: list[NewNotice] = []
        for request, change, _ in changes:
            number = request.number
            notices += [
                NewNotice(number, NoticeKind.TICKET_MESSAGE, {}),
                NewNotice(number, NoticeKind.THREAD, {"text": story_line(change, request.user_id)}),
            ]
            notices += [
                NewNotice(number, kind, payload)
                for kind, payload in _follow_ups(ctx, change, request.user_id, now)
            ]
            notices += settle_notices(change, request.user_id)
        await outbox.enqueue_many(conn, notices, now=now)
        await requests.remember_replies(
            conn,
            [(r.request_key, reply) for r, _, reply in changes if r.request_key is not None],
            now=now,
        )
    for request, change, _ in changes:
        log.info(
            "ticket %s", change.kind, extra={"ticket": request.number, "user": request.user_id}
        )
    ctx.wake_delivery()
    if rearming.next_due is not None:
        ctx.wake_engine(rearming.next_due)
    return results


def _terms(ctx: Context, ticket: Ticket) -> Terms:
    return ctx.config.policy.terms(ticket.severity, in_warranty=ticket.in_warranty)


def settle_notices(change: Change, user_id: str) -> list[NewNotice]:
    """The prompts the change answered (a sign-off, an approval): their messages say so
    and lose their buttons, updated in place."""
    t = change.ticket
    outcome = story_line(change, user_id)
    notices = []
    for prompt in settled(change):
        said = blocks_ticket.answered_prompt(t, prompt, outcome)
        payload = {"prompt": prompt.value, "text": said.text, "blocks": said.blocks}
        notices.append(NewNotice(t.number, NoticeKind.SETTLE, payload))
    return notices


def _follow_ups(
    ctx: Context, change: Change, user_id: str, now: datetime
) -> list[tuple[NoticeKind, dict[str, object]]]:
    """Messages beyond the thread line: the reporter's sign-off, outcomes, escalation pages."""
    t = change.ticket
    notices: list[tuple[NoticeKind, dict[str, object]]] = []
    if change.kind == "resolve":
        ask = blocks_ticket.confirm_request(t)
        signoff = Prompt.SIGNOFF.value
        notices.append(
            (NoticeKind.THREAD, {"text": ask.text, "blocks": ask.blocks, "prompt": signoff})
        )
        notices.append(
            (
                NoticeKind.DM,
                {"user": t.reporter_id, "text": ask.text, "blocks": ask.blocks, "prompt": signoff},
            )
        )
    elif change.kind in ("accept", "decline"):
        text = blocks_ticket.approval_outcome(t)
        notices.append((NoticeKind.DM, {"user": t.reporter_id, "text": text}))
    elif change.kind == "escalate":
        text, body = blocks_pages.escalation_page(t, user_id)
        for manager in ctx.config.roles.managers:
            page = {"user": manager, "text": text, "blocks": body, "manager": True}
            notices.append((NoticeKind.PAGE, page | {"assignee": t.assignee_id}))
    elif change.kind == "severity" and _terms(ctx, t).clock is ClockKind.ELAPSED:
        notices.append(
            (
                NoticeKind.THREAD,
                {"text": f"{t.ref} is now class {t.severity}: its clocks run 24×7."},
            )
        )
    return notices


def _reply(change: Change, terms: Terms) -> str:
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
            if terms.pausable
            else f"; class {t.severity} clocks never pause."
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
    async with ctx.db.read() as conn:
        return await ticket_store.ticket_at_message(conn, channel, thread_ts)


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
