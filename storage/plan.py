"""Service-plan storage: task occurrences (durable timers: pending until sent), their record,
survey answers, and the month's review posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from bot.domain.service_plan import PlanEventKind, PlanTask, TaskState
from storage.tables import (
    OutboxRow,
    PlanEventRow,
    PlanTaskRow,
    ReviewPostRow,
    SurveyAnswerRow,
    table_of,
)

TASKS = table_of(PlanTaskRow)
EVENTS = table_of(PlanEventRow)
ANSWERS = table_of(SurveyAnswerRow)
POSTS = table_of(ReviewPostRow)


@dataclass(frozen=True)
class StoredTask:
    id: int
    customer: str
    task: PlanTask
    seq: int
    start_on: date
    nominal: date
    due_at: datetime
    overdue_at: datetime
    state: TaskState
    sent_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    reason: str


def _task(row: Row[Any]) -> StoredTask:
    return StoredTask(
        id=row.id,
        customer=row.customer,
        task=PlanTask(row.task),
        seq=row.seq,
        start_on=row.start_on,
        nominal=row.nominal,
        due_at=row.due_at,
        overdue_at=row.overdue_at,
        state=TaskState(row.state),
        sent_at=row.sent_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        reason=row.reason,
    )


@dataclass(frozen=True)
class NewTask:
    customer: str
    task: PlanTask
    seq: int
    start_on: date
    nominal: date
    due_at: datetime
    overdue_at: datetime
    state: TaskState
    sent_at: datetime | None = None


async def insert_tasks(
    conn: AsyncConnection, tasks: Sequence[NewTask], *, now: datetime
) -> list[int]:
    """Insert occurrences; their ids, in order."""
    ids = []
    for t in tasks:
        result = await conn.execute(
            insert(TASKS)
            .values(
                customer=t.customer,
                task=t.task.value,
                seq=t.seq,
                start_on=t.start_on,
                nominal=t.nominal,
                due_at=t.due_at,
                overdue_at=t.overdue_at,
                state=t.state.value,
                armed_at=now,
                sent_at=t.sent_at,
                reason="",
            )
            .returning(TASKS.c.id)
        )
        ids.append(int(result.scalar_one()))
    return ids


def _if_new(conn: AsyncConnection, table: Any, *columns: str) -> Any:
    """INSERT … ON CONFLICT (``columns``) DO NOTHING into ``table``, in the connection's
    dialect: what another process inserted meanwhile stays as it is."""
    insert_of = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return insert_of(table).on_conflict_do_nothing(index_elements=list(columns))


async def arm_tasks(conn: AsyncConnection, tasks: Sequence[NewTask], *, now: datetime) -> None:
    """Insert pending occurrences, each unless another process armed it at the same time
    (replicas that start together arm the plan from the same config)."""
    if tasks:
        await conn.execute(
            _if_new(conn, TASKS, "customer", "task", "seq"),
            [
                {
                    "customer": t.customer,
                    "task": t.task.value,
                    "seq": t.seq,
                    "start_on": t.start_on,
                    "nominal": t.nominal,
                    "due_at": t.due_at,
                    "overdue_at": t.overdue_at,
                    "state": t.state.value,
                    "armed_at": now,
                    "sent_at": t.sent_at,
                    "reason": "",
                }
                for t in tasks
            ],
        )


async def latest_tasks(conn: AsyncConnection) -> dict[tuple[str, PlanTask], StoredTask]:
    """The newest occurrence of each customer's task (the pending one, when armed)."""
    newest = (
        select(TASKS.c.customer, TASKS.c.task, func.max(TASKS.c.seq).label("seq"))
        .group_by(TASKS.c.customer, TASKS.c.task)
        .subquery()
    )
    query = select(TASKS).join(
        newest,
        (TASKS.c.customer == newest.c.customer)
        & (TASKS.c.task == newest.c.task)
        & (TASKS.c.seq == newest.c.seq),
    )
    return {(t.customer, t.task): t for t in map(_task, await conn.execute(query))}


async def repoint(
    conn: AsyncConnection,
    task_id: int,
    *,
    start_on: date,
    nominal: date,
    due_at: datetime,
    overdue_at: datetime,
) -> None:
    """A pending occurrence follows a changed cadence (counted from ``start_on``)."""
    await conn.execute(
        update(TASKS)
        .where(TASKS.c.id == task_id, TASKS.c.state == TaskState.PENDING.value)
        .values(start_on=start_on, nominal=nominal, due_at=due_at, overdue_at=overdue_at)
    )


async def nominal_of(conn: AsyncConnection, customer: str, task: PlanTask, seq: int) -> date | None:
    """The day occurrence ``seq`` of the customer's task was meant for (None: no such one)."""
    found: date | None = await conn.scalar(
        select(TASKS.c.nominal).where(
            TASKS.c.customer == customer, TASKS.c.task == task.value, TASKS.c.seq == seq
        )
    )
    return found


async def drop_pending(conn: AsyncConnection, task_ids: Sequence[int]) -> None:
    """Pending occurrences of tasks turned off (never sent: nothing to keep)."""
    if task_ids:
        await conn.execute(
            delete(TASKS).where(
                TASKS.c.id.in_(list(task_ids)), TASKS.c.state == TaskState.PENDING.value
            )
        )


async def claim_due(conn: AsyncConnection, *, now: datetime, limit: int) -> list[StoredTask]:
    """Pending occurrences due at ``now`` (row locks on PostgreSQL, skipping locked ones)."""
    query = (
        select(TASKS)
        .where(TASKS.c.state == TaskState.PENDING.value, TASKS.c.due_at <= now)
        .order_by(TASKS.c.due_at, TASKS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_task(row) for row in await conn.execute(query)]


async def set_state(
    conn: AsyncConnection, task_id: int, state: TaskState, *, sent_at: datetime | None
) -> None:
    await conn.execute(
        update(TASKS).where(TASKS.c.id == task_id).values(state=state.value, sent_at=sent_at)
    )


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    query = select(func.min(TASKS.c.due_at)).where(TASKS.c.state == TaskState.PENDING.value)
    value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def get_task(conn: AsyncConnection, task_id: int) -> StoredTask | None:
    row = (await conn.execute(select(TASKS).where(TASKS.c.id == task_id))).first()
    return _task(row) if row else None


async def close_task(
    conn: AsyncConnection,
    task_id: int,
    state: TaskState,
    *,
    by: str,
    reason: str,
    now: datetime,
) -> bool:
    """Done, skipped or answered: only an open occurrence closes (False: it was not open)."""
    result = await conn.execute(
        update(TASKS)
        .where(TASKS.c.id == task_id, TASKS.c.state == TaskState.OPEN.value)
        .values(state=state.value, closed_at=now, closed_by=by, reason=reason)
    )
    return bool(result.rowcount)


async def open_tasks(conn: AsyncConnection) -> list[StoredTask]:
    """Occurrences sent and not done, oldest first (the App Home shows the overdue ones)."""
    query = (
        select(TASKS)
        .where(TASKS.c.state == TaskState.OPEN.value)
        .order_by(TASKS.c.overdue_at, TASKS.c.id)
        .limit(500)
    )
    return [_task(row) for row in await conn.execute(query)]


async def record(
    conn: AsyncConnection,
    events: Sequence[tuple[int, str, PlanEventKind, dict[str, Any]]],
    *,
    at: datetime,
) -> None:
    """Append (task id, actor, kind, detail) to the plan's record."""
    if events:
        await conn.execute(
            insert(EVENTS),
            [
                {"task_id": t, "at": at, "actor_id": a, "kind": k.value, "detail": d}
                for t, a, k, d in events
            ],
        )


async def task_messages(conn: AsyncConnection, task_id: int) -> list[tuple[str, str, str]]:
    """Where the direct messages that asked task ``task_id`` were posted (channel, ts, and the
    person), oldest first: the copies to update once one of them closes it."""
    rows = await conn.execute(
        select(OutboxRow.payload["user"].as_string(), OutboxRow.result)
        .where(
            OutboxRow.kind == NoticeKind.DM,
            OutboxRow.ticket_number.is_(None),
            OutboxRow.sent_at.is_not(None),
            OutboxRow.payload["task"].as_integer() == task_id,
        )
        .order_by(OutboxRow.id)
    )
    return [
        (str(result["channel"]), str(result["ts"]), str(user))
        for user, result in rows
        if isinstance(result, dict) and result.get("channel") and result.get("ts") and user
    ]


async def events_of(conn: AsyncConnection, task_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, actor, detail) of one occurrence, in order."""
    rows = await conn.execute(
        select(EVENTS.c.kind, EVENTS.c.actor_id, EVENTS.c.detail)
        .where(EVENTS.c.task_id == task_id)
        .order_by(EVENTS.c.id)
    )
    return [(k, a, d) for k, a, d in rows]


async def add_answer(
    conn: AsyncConnection, task_id: int, *, user: str, rating: int, comment: str, now: datetime
) -> bool:
    """A contact's survey answer; False when they answered this survey before."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(ANSWERS).values(
                    task_id=task_id, user_id=user, rating=rating, comment=comment, at=now
                )
            )
    except IntegrityError:
        return False
    return True


# ---- the month's review posts -----------------------------------------------------------


@dataclass(frozen=True)
class ReviewPost:
    month: str
    due_at: datetime
    attempts: int


async def pending_posts(conn: AsyncConnection) -> list[ReviewPost]:
    rows = await conn.execute(
        select(POSTS.c.month, POSTS.c.due_at, POSTS.c.attempts)
        .where(POSTS.c.posted_at.is_(None), POSTS.c.outcome.is_(None))
        .order_by(POSTS.c.due_at)
    )
    return [ReviewPost(m, d, a) for m, d, a in rows]


async def arm_post(conn: AsyncConnection, month: str, due_at: datetime) -> None:
    """The review of ``month`` to post at ``due_at`` (nothing when it is known already, also
    when another process arms it at the same time)."""
    found = (await conn.execute(select(POSTS.c.month).where(POSTS.c.month == month))).first()
    if found is None:
        await conn.execute(
            _if_new(conn, POSTS, "month").values(month=month, due_at=due_at, attempts=0)
        )


async def claim_posts(conn: AsyncConnection, *, now: datetime, lease_until: datetime) -> list[str]:
    """Due review posts no other process holds, leased to this one, oldest first."""
    query = (
        select(POSTS.c.month)
        .where(
            POSTS.c.posted_at.is_(None),
            POSTS.c.outcome.is_(None),
            POSTS.c.due_at <= now,
            POSTS.c.lease_until.is_(None) | (POSTS.c.lease_until <= now),
        )
        .order_by(POSTS.c.due_at)
        .with_for_update(skip_locked=True)
    )
    months = [str(m) for m in (await conn.execute(query)).scalars()]
    if months:
        await conn.execute(
            update(POSTS).where(POSTS.c.month.in_(months)).values(lease_until=lease_until)
        )
    return months


async def finish_post(
    conn: AsyncConnection, month: str, *, outcome: str, now: datetime, error: str | None = None
) -> None:
    """Posted (``sent``) or passed over for a later month's (``superseded``); ``error``, what
    went wrong after the post (its files not shared)."""
    kept = {"last_error": error[:500]} if error else {}
    await conn.execute(
        update(POSTS)
        .where(POSTS.c.month == month)
        .values(posted_at=now, outcome=outcome, lease_until=None, **kept)
    )


async def post_failed(conn: AsyncConnection, month: str, *, error: str, retry_at: datetime) -> None:
    await conn.execute(
        update(POSTS)
        .where(POSTS.c.month == month)
        .values(
            attempts=POSTS.c.attempts + 1,
            last_error=error[:500],
            lease_until=None,
            due_at=retry_at,
        )
    )


async def next_post_at(conn: AsyncConnection) -> datetime | None:
    value: datetime | None = (
        await conn.execute(
            select(func.min(POSTS.c.due_at)).where(
                POSTS.c.posted_at.is_(None), POSTS.c.outcome.is_(None)
            )
        )
    ).scalar_one_or_none()
    return value


async def post_attempts(conn: AsyncConnection, month: str) -> int:
    found = (await conn.execute(select(POSTS.c.attempts).where(POSTS.c.month == month))).first()
    return int(found[0]) if found else 0
