"""Use cases of the service plan (SPEC §6): arming each customer's tasks from the config,
sending them when due (the latest only after downtime), Done, Skip, survey answers, and the
overdue tasks a person should see."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.config import Customer
from bot.domain.notices import NoticeKind
from bot.domain.service_plan import (
    COMMENT_MAX,
    REASON_MAX,
    SURVEY_SCALE,
    Cadence,
    PlanEventKind,
    PlanTask,
    TaskState,
    catch_up,
    occurrence_after,
    recipients,
)
from bot.errors import UserError
from bot.services.context import Context
from bot.services.readers import to_one
from bot.sla.calendar import CalendarRangeError
from bot.slack import plan_blocks
from bot.slack.blocks import Block
from bot.slack.i18n import Translator
from storage import outbox
from storage import plan as plan_store
from storage.outbox import NewNotice
from storage.plan import NewTask, StoredTask
from storage.requests import first_time

log = logging.getLogger(__name__)


def _customers(ctx: Context) -> dict[str, Customer]:
    return {c.name: c for c in ctx.config.customers}


def who_does(ctx: Context, customer: Customer, task: PlanTask) -> tuple[str, ...]:
    return recipients(
        task,
        owner=customer.owner,
        contacts=customer.contacts,
        managers=ctx.config.roles.managers,
    )


def _active(ctx: Context, customer: Customer | None, task: PlanTask) -> Cadence | None:
    """The task's cadence when it is on for the customer and someone can do it."""
    if customer is None:
        return None
    cadence = customer.plan.cadence(task)
    if cadence is None or not who_does(ctx, customer, task):
        return None
    return cadence


async def sync(ctx: Context) -> datetime | None:
    """Arm the next occurrence of every task the config gives a customer, follow changed
    cadences, and drop pending ones of tasks turned off. Returns the earliest due."""
    now = ctx.clock.now()
    today = now.astimezone(ctx.config.tz).date()
    calendar = ctx.config.calendar
    customers = _customers(ctx)
    async with ctx.db.write(background=True) as conn:
        latest = await plan_store.latest_tasks(conn)
        drop = [
            t.id
            for (name, task), t in latest.items()
            if t.state is TaskState.PENDING and _active(ctx, customers.get(name), task) is None
        ]
        await plan_store.drop_pending(conn, drop)
        new: list[NewTask] = []
        for customer in ctx.config.customers:
            for task in PlanTask:
                cadence = _active(ctx, customer, task)
                if cadence is None:
                    continue
                last = latest.get((customer.name, task))
                try:
                    if last is not None and last.state is TaskState.PENDING:
                        before = await plan_store.nominal_of(
                            conn, last.customer, last.task, last.seq - 1
                        )
                        occ = occurrence_after(last.start_on, cadence, calendar, after=before)
                        if occ.nominal != last.nominal:  # a changed cadence: from the last one
                            occ = occurrence_after(before or last.start_on, cadence, calendar)
                        if (occ.base, occ.nominal, occ.due, occ.overdue_at) != (
                            last.start_on,
                            last.nominal,
                            last.due_at,
                            last.overdue_at,
                        ):
                            await plan_store.repoint(
                                conn,
                                last.id,
                                start_on=occ.base,
                                nominal=occ.nominal,
                                due_at=occ.due,
                                overdue_at=occ.overdue_at,
                            )
                        continue
                    base = today
                    if last is not None:  # turned on again: go on from the last one if it
                        resumed = occurrence_after(last.nominal, cadence, calendar)
                        base = last.nominal if resumed.due > now else today  # is not past
                    occ = occurrence_after(base, cadence, calendar)
                except CalendarRangeError as error:
                    log.error("plan task %s of %s not armed: %s", task, customer.name, error)
                    continue
                seq = 1 if last is None else last.seq + 1
                new.append(
                    NewTask(
                        customer.name,
                        task,
                        seq,
                        occ.base,
                        occ.nominal,
                        occ.due,
                        occ.overdue_at,
                        TaskState.PENDING,
                    )
                )
        await plan_store.arm_tasks(conn, new, now=now)
        return await plan_store.next_due_at(conn)


def _notices(ctx: Context, customer: Customer, task_id: int, occ: StoredTask) -> list[NewNotice]:
    def say(tr: Translator) -> tuple[str, list[Block]]:  # in each reader's language when sent
        if occ.task is PlanTask.SURVEY:
            return plan_blocks.survey_request(tr, task_id, customer.name)
        return plan_blocks.task_request(
            tr, task_id, customer.name, occ.task, occ.nominal, occ.overdue_at
        )

    said = to_one(ctx.config, say)
    return [
        NewNotice(None, NoticeKind.DM, {"user": user, "task": task_id, **said})
        for user in who_does(ctx, customer, occ.task)
    ]


async def fire_due(ctx: Context, *, limit: int = 100) -> int:
    """Send the occurrences due now (each once; after downtime the latest of a task only,
    the older ones recorded as superseded) and arm the next ones. Returns how many fired."""
    now = ctx.clock.now()
    calendar = ctx.config.calendar
    customers = _customers(ctx)
    async with ctx.db.write(background=True) as conn:
        due = await plan_store.claim_due(conn, now=now, limit=limit)
        if not due:
            return 0
        notices: list[NewNotice] = []
        events: list[tuple[int, str, PlanEventKind, dict[str, object]]] = []
        for row in due:
            customer = customers.get(row.customer)
            cadence = _active(ctx, customer, row.task)
            if customer is None or cadence is None:
                await plan_store.drop_pending(conn, [row.id])
                continue
            try:
                current, skipped, following = catch_up(
                    row.start_on, cadence, now, calendar, nominal=row.nominal
                )
            except CalendarRangeError as error:
                log.error("plan task %s of %s not sent: %s", row.task, row.customer, error)
                continue
            seq = row.seq
            chain = [*skipped, current]
            later: list[NewTask] = []
            for index, occ in enumerate(chain):
                sent = occ is current
                state = TaskState.OPEN if sent else TaskState.SUPERSEDED
                if index == 0:
                    await plan_store.set_state(conn, row.id, state, sent_at=now if sent else None)
                    continue
                seq += 1
                later.append(
                    NewTask(
                        row.customer,
                        row.task,
                        seq,
                        occ.base,
                        occ.nominal,
                        occ.due,
                        occ.overdue_at,
                        state,
                        sent_at=now if sent else None,
                    )
                )
            later.append(
                NewTask(
                    row.customer,
                    row.task,
                    seq + 1,
                    following.base,
                    following.nominal,
                    following.due,
                    following.overdue_at,
                    TaskState.PENDING,
                )
            )
            ids = [row.id, *await plan_store.insert_tasks(conn, later, now=now)]
            for occ, task_id in zip(chain, ids, strict=False):
                kind = PlanEventKind.DUE if occ is current else PlanEventKind.SUPERSEDED
                events.append((task_id, "", kind, {"nominal": occ.nominal.isoformat()}))
            sent_id = ids[len(chain) - 1]
            sent_row = StoredTask(
                id=sent_id,
                customer=row.customer,
                task=row.task,
                seq=seq,
                start_on=current.base,
                nominal=current.nominal,
                due_at=current.due,
                overdue_at=current.overdue_at,
                state=TaskState.OPEN,
                sent_at=now,
                closed_at=None,
                closed_by=None,
                reason="",
            )
            notices += _notices(ctx, customer, sent_id, sent_row)
            if skipped:
                log.info(
                    "plan catch-up: %s of %s sent for %s, %d superseded",
                    row.task,
                    row.customer,
                    current.nominal,
                    len(skipped),
                )
        await plan_store.record(conn, events, at=now)
        await outbox.enqueue_many(conn, notices, now=now)
    ctx.wake_delivery()
    return len(due)


@dataclass(frozen=True)
class Closed:
    task: StoredTask
    by: str
    state: TaskState
    reason: str = ""
    messages: tuple[tuple[str, str, str], ...] = ()  # every copy that asked it: channel, ts, who

    def message(self, tr: Translator) -> tuple[str, list[dict[str, object]]]:
        """What the task's message says now (in the language it was sent in: ``tr``)."""
        t = self.task
        return plan_blocks.task_closed(
            tr, t.customer, t.task, t.nominal, self.state, self.by, self.reason
        )


def _check_closer(ctx: Context, task: StoredTask | None, user_id: str) -> StoredTask:
    """The task, if ``user_id`` may mark it done or skipped (its owner, or a manager)."""
    if task is None:
        raise UserError("There is no such service-plan task.")
    customer = _customers(ctx).get(task.customer)
    allowed = ctx.config.is_manager(user_id) or (
        customer is not None and user_id in who_does(ctx, customer, task.task)
    )
    if task.task is PlanTask.SURVEY or not allowed:
        raise UserError("This task is not yours to close.")
    return task


def _not_open(task: StoredTask) -> UserError:
    if task.closed_by:
        return UserError(
            "This task is %(state)s by %(who)s already; nothing changed.",
            state=task.state,
            who=f"<@{task.closed_by}>",
        )
    return UserError("This task is %(state)s already; nothing changed.", state=task.state)


async def may_close(ctx: Context, task_id: int, user_id: str) -> StoredTask:
    """Check, changing nothing, that ``user_id`` may close the open task (before its form)."""
    async with ctx.db.read() as conn:
        task = _check_closer(ctx, await plan_store.get_task(conn, task_id), user_id)
    if task.state is not TaskState.OPEN:
        raise _not_open(task)
    return task


async def _close(
    ctx: Context,
    task_id: int,
    user_id: str,
    state: TaskState,
    reason: str = "",
    *,
    request_key: str | None = None,
) -> Closed | None:
    """None: ``request_key`` was acted on before (Slack's retry of the click)."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        if request_key is not None and not await first_time(conn, request_key, now=now):
            return None
        task = _check_closer(ctx, await plan_store.get_task(conn, task_id), user_id)
        closed = await plan_store.close_task(
            conn, task_id, state, by=user_id, reason=reason, now=now
        )
        if not closed:
            raise _not_open(task)
        kind = PlanEventKind.DONE if state is TaskState.DONE else PlanEventKind.SKIPPED
        await plan_store.record(conn, [(task_id, user_id, kind, {"reason": reason})], at=now)
        messages = tuple(await plan_store.task_messages(conn, task_id))
    log.info("plan task %s %s", task.task, state, extra={"user": user_id})
    return Closed(task, user_id, state, reason, messages)


async def done(
    ctx: Context, task_id: int, user_id: str, *, request_key: str | None = None
) -> Closed | None:
    """The task done; None for Slack's retry of a click handled before (``request_key``)."""
    return await _close(ctx, task_id, user_id, TaskState.DONE, request_key=request_key)


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise UserError("Say why the task is skipped.")
    if len(reason) > REASON_MAX:
        raise UserError(
            "Keep the reason to %(limit)s characters (it has %(n)s).",
            limit=REASON_MAX,
            n=len(reason),
        )
    return reason


async def skip(ctx: Context, task_id: int, user_id: str, reason: str) -> Closed:
    closed = await _close(ctx, task_id, user_id, TaskState.SKIPPED, check_reason(reason))
    assert closed is not None  # asked without a request key
    return closed


async def survey_of(ctx: Context, task_id: int, user_id: str) -> StoredTask:
    """The survey ``user_id`` may answer (a contact of its customer)."""
    async with ctx.db.read() as conn:
        task = await plan_store.get_task(conn, task_id)
    customer = _customers(ctx).get(task.customer) if task is not None else None
    if task is None or task.task is not PlanTask.SURVEY or customer is None:
        raise UserError("There is no such survey.")
    if user_id not in customer.contacts:
        raise UserError("This survey is for the customer's contacts.")
    return task


async def answer_survey(
    ctx: Context, task_id: int, user_id: str, *, rating: int, comment: str
) -> Closed:
    """A contact's answer (1-5 and a comment); the survey is done at the first answer."""
    if rating not in SURVEY_SCALE:
        raise UserError("Pick 1 to 5.")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise UserError(
            "Keep the comment to %(limit)s characters (it has %(n)s).",
            limit=COMMENT_MAX,
            n=len(comment),
        )
    task = await survey_of(ctx, task_id, user_id)
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        if not await plan_store.add_answer(
            conn, task_id, user=user_id, rating=rating, comment=comment, now=now
        ):
            raise UserError("You answered this survey already; thank you.")
        await plan_store.close_task(conn, task_id, TaskState.DONE, by=user_id, reason="", now=now)
        await plan_store.record(
            conn,
            [(task_id, user_id, PlanEventKind.ANSWERED, {"rating": rating, "comment": comment})],
            at=now,
        )
        # Only this contact's copy is answered: each contact answers once, in their own.
        messages = tuple(
            m for m in await plan_store.task_messages(conn, task_id) if m[2] == user_id
        )
    return Closed(task, user_id, TaskState.DONE, messages=messages)


async def overdue_for(ctx: Context, user_id: str) -> list[StoredTask]:
    """Open tasks past their cadence that ``user_id`` does (a manager sees them all)."""
    now = ctx.clock.now()
    async with ctx.db.read() as conn:
        tasks = await plan_store.open_tasks(conn)
    customers = _customers(ctx)
    manager = ctx.config.is_manager(user_id)
    found = []
    for task in tasks:
        if task.overdue_at > now:
            continue
        customer = customers.get(task.customer)
        if manager or (customer is not None and user_id in who_does(ctx, customer, task.task)):
            found.append(task)
    return found
