"""Timer queries: the pending stages of tickets, claimed per ticket so two engines never fire one.

Claiming locks the tickets (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the write
transaction is ``BEGIN IMMEDIATE``, so engines take turns), and every timer of a claimed
ticket is then the claimer's until it commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.tickets import Ticket
from bot.sla.stages import StageOutcome
from storage.requests import REQUESTS, replies_for
from storage.tables import TicketRow, TimerRow, table_of
from storage.tickets import NUMBERS, TICKETS, to_ticket


@dataclass(frozen=True)
class StoredTimer:
    id: int
    ticket_number: int
    key: str
    due_at: datetime
    version: int
    fired_at: datetime | None
    outcome: StageOutcome | None


@dataclass(frozen=True)
class Arm:
    """A stage to store: pending when ``outcome`` is None, else fired now with that outcome."""

    key: str
    due_at: datetime
    outcome: StageOutcome | None = None


def _pending_due(now: datetime) -> Sequence[object]:
    return (TimerRow.fired_at.is_(None), TimerRow.due_at <= now)


async def claim_due_tickets(conn: AsyncConnection, *, now: datetime, limit: int) -> list[int]:
    """Lock up to ``limit`` tickets that have a pending timer due by ``now``."""
    due = select(TimerRow.ticket_number).where(*_pending_due(now))  # type: ignore[arg-type]
    result = await conn.scalars(
        select(TicketRow.number)
        .where(TicketRow.number.in_(due))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result)


async def timers_of(
    conn: AsyncConnection, ticket_numbers: Iterable[int]
) -> dict[int, list[StoredTimer]]:
    """Every timer (pending and fired) of these tickets, by the ticket index: what the rules
    need (fired keys, versions) and what :func:`rearm_many` replaces (pending ids)."""
    numbers = list(ticket_numbers)
    found: dict[int, list[StoredTimer]] = {n: [] for n in numbers}
    for start in range(0, len(numbers), _CHUNK):
        rows = await conn.execute(_STORED, {"numbers": numbers[start : start + _CHUNK]})
        for id_, number, key, due_at, version, fired_at, outcome in rows:
            ended = StageOutcome(outcome) if outcome else None
            found[number].append(StoredTimer(id_, number, key, due_at, version, fired_at, ended))
    return found


TIMERS = table_of(TimerRow)
# The tickets' rows locked, on PostgreSQL, before their timers are read (SQLite's write
# transaction holds the write lock already). Not in the same statement: one that waited for
# another transaction's lock on a ticket (the timer engine firing it) sees the ticket as that
# transaction left it, but the timers as they were when the statement began (READ COMMITTED
# reads the locked row again, not the rows joined to it). The re-arming would then drop a
# fired timer and insert the next one again, which the engine had just stored.
_LOCK_TICKETS = select(TICKETS.c.number).where(TICKETS.c.number.in_(NUMBERS)).with_for_update()
# Tickets with every timer of theirs, by the ticket index.
_WITH_TIMERS = (
    select(
        TICKETS,
        TIMERS.c.id.label("timer_id"),
        TIMERS.c.key.label("timer_key"),
        TIMERS.c.due_at.label("timer_due_at"),
        TIMERS.c.version.label("timer_version"),
        TIMERS.c.fired_at.label("timer_fired_at"),
        TIMERS.c.outcome.label("timer_outcome"),
    )
    .outerjoin(TIMERS, TIMERS.c.ticket_number == TICKETS.c.number)
    .where(TICKETS.c.number.in_(NUMBERS))
)
# The same, with the replies recorded for the given request keys (SQLite: json_group_object).
_WITH_REPLIES = _WITH_TIMERS.add_columns(
    select(func.json_group_object(REQUESTS.c.key, REQUESTS.c.reply))
    .where(REQUESTS.c.key.in_(bindparam("keys", expanding=True)))
    .scalar_subquery()
    .label("replies")
)
# The tickets' timers by the ticket index. (A WHERE with "fired_at IS NULL" lets SQLite pick
# the pending-timers index instead, and scan every pending timer of every ticket.)
_STORED = select(
    TIMERS.c.id,
    TIMERS.c.ticket_number,
    TIMERS.c.key,
    TIMERS.c.due_at,
    TIMERS.c.version,
    TIMERS.c.fired_at,
    TIMERS.c.outcome,
).where(TIMERS.c.ticket_number.in_(NUMBERS))
_DROP = delete(TIMERS).where(TIMERS.c.id.in_(bindparam("ids", expanding=True)))
_CHUNK = 500  # ticket numbers per IN list
_INSERT = insert(TIMERS)
_NEW_VERSION = (
    update(TIMERS).where(TIMERS.c.id == bindparam("timer_id")).values(version=bindparam("v"))
)


async def claimed_with_timers(
    conn: AsyncConnection, ticket_numbers: Iterable[int]
) -> tuple[dict[int, Ticket], dict[int, list[StoredTimer]]]:
    """Tickets this transaction has locked already (the timer engine's claim), with their
    timers (as :func:`timers_of` gives them), in one statement."""
    tickets, timers, _ = await _with_timers(conn, list(ticket_numbers), [], lock=False)
    return tickets, timers


async def lock_for_steps(
    conn: AsyncConnection, ticket_numbers: Iterable[int], request_keys: Sequence[str]
) -> tuple[dict[int, Ticket], dict[int, list[StoredTimer]], dict[str, str]]:
    """Lock tickets to change them and load them with their timers, and the replies recorded
    for the requests acted on before (as :func:`storage.requests.replies_for` gives them):
    what a step needs before it applies its rule and re-arms. On SQLite one statement reads
    all three (the replies as one JSON object, a column of every row); on PostgreSQL the
    lock (``_LOCK_TICKETS``), the tickets with their timers and the replies take one each."""
    return await _with_timers(conn, list(ticket_numbers), list(request_keys), lock=True)


async def _with_timers(
    conn: AsyncConnection, numbers: list[int], keys: list[str], *, lock: bool
) -> tuple[dict[int, Ticket], dict[int, list[StoredTimer]], dict[str, str]]:
    tickets: dict[int, Ticket] = {}
    timers: dict[int, list[StoredTimer]] = {n: [] for n in numbers}
    sqlite = conn.dialect.name == "sqlite"
    combined = bool(keys) and sqlite and len(numbers) <= _CHUNK
    replies: dict[str, str] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        if lock and not sqlite:
            await conn.execute(_LOCK_TICKETS, {"numbers": chunk})
        if combined:
            rows = (await conn.execute(_WITH_REPLIES, {"numbers": chunk, "keys": keys})).all()
            replies = json.loads(rows[0].replies) if rows and rows[0].replies else {}
        else:
            rows = (await conn.execute(_WITH_TIMERS, {"numbers": chunk})).all()
        _collect(rows, tickets, timers)
    if keys and not combined:
        replies = await replies_for(conn, keys)
    return tickets, timers, replies


def _collect(
    rows: Sequence[Row[Any]], tickets: dict[int, Ticket], timers: dict[int, list[StoredTimer]]
) -> None:
    for row in rows:
        if row.number not in tickets:
            tickets[row.number] = to_ticket(row)
        if row.timer_id is not None:
            timers[row.number].append(
                StoredTimer(
                    row.timer_id,
                    row.number,
                    row.timer_key,
                    row.timer_due_at,
                    row.timer_version,
                    row.timer_fired_at,
                    row.timer_outcome,
                )
            )


def _row(number: int, arm: Arm, *, version: int, now: datetime) -> dict[str, object]:
    return {
        "ticket_number": number,
        "key": arm.key,
        "due_at": arm.due_at,
        "version": version,
        "armed_at": now,
        "fired_at": None if arm.outcome is None else now,
        "outcome": arm.outcome,
    }


@dataclass(frozen=True)
class Rearm:
    ticket_number: int
    version: int
    arms: Sequence[Arm]


async def rearm_many(
    conn: AsyncConnection,
    rearms: Sequence[Rearm],
    stored: Mapping[int, Sequence[StoredTimer]],
    *,
    now: datetime,
) -> None:
    """Replace the tickets' pending timers (``stored``, read by :func:`timers_of` in this
    transaction) with ``rearms``. A ticket whose next stage has not changed (a note, a take)
    keeps its row, with the ticket's new version (written only when it is new: the start's
    pass over the open tickets mostly finds them as they were)."""
    drop: list[int] = []
    keep: list[dict[str, int]] = []
    rows: list[dict[str, object]] = []
    for r in rearms:
        pending = [t for t in stored.get(r.ticket_number, ()) if t.fired_at is None]
        if _same_stage(pending, r.arms):
            if pending[0].version != r.version:
                keep.append({"timer_id": pending[0].id, "v": r.version})
            continue
        drop += [timer.id for timer in pending]
        rows += [_row(r.ticket_number, arm, version=r.version, now=now) for arm in r.arms]
    for start in range(0, len(drop), _CHUNK):
        await conn.execute(_DROP, {"ids": drop[start : start + _CHUNK]})
    if keep:
        await conn.execute(_NEW_VERSION, keep)
    if rows:
        await conn.execute(_INSERT, rows)


def _same_stage(pending: Sequence[StoredTimer], arms: Sequence[Arm]) -> bool:
    if len(pending) != 1 or len(arms) != 1 or arms[0].outcome is not None:
        return False
    return (pending[0].key, pending[0].due_at) == (arms[0].key, arms[0].due_at)


async def mark_failed(
    conn: AsyncConnection, ticket_number: int, *, version: int, now: datetime, retry_at: datetime
) -> None:
    """Set the ticket's due timers aside (outcome ``error``) so they are not tried forever,
    and arm a ``retry:`` wake-up at ``retry_at``, when the rules are asked again (only the
    next stage is ever stored, so without it the ticket would have nothing armed)."""
    await conn.execute(
        update(TimerRow)
        .where(TimerRow.ticket_number == ticket_number, *_pending_due(now))  # type: ignore[arg-type]
        .values(fired_at=now, outcome=StageOutcome.ERROR)
    )
    retry = Arm(f"retry:{now.strftime('%Y%m%dT%H%M%S%f')}", retry_at)
    await conn.execute(_INSERT, [_row(ticket_number, retry, version=version, now=now)])


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    """The due instant of the earliest pending timer (an index lookup)."""
    value = await conn.scalar(select(func.min(TimerRow.due_at)).where(TimerRow.fired_at.is_(None)))
    return value if isinstance(value, datetime) else None


async def pending_count(conn: AsyncConnection) -> int:
    return int(
        await conn.scalar(
            select(func.count()).select_from(TimerRow).where(TimerRow.fired_at.is_(None))
        )
        or 0
    )


async def arm_new(
    conn: AsyncConnection, arms: Sequence[tuple[int, Arm]], *, version: int, now: datetime
) -> None:
    """Arm the first timers of new tickets (ticket number, arm) with one statement."""
    if not arms:
        return
    await conn.execute(_INSERT, [_row(n, arm, version=version, now=now) for n, arm in arms])


async def overdue(conn: AsyncConnection, *, before: datetime) -> tuple[int, datetime | None]:
    """Pending timers due before ``before`` (the watchdog's look): how many, the earliest."""
    count, earliest = (
        await conn.execute(
            select(func.count(), func.min(TimerRow.due_at)).where(
                TimerRow.fired_at.is_(None), TimerRow.due_at < before
            )
        )
    ).one()
    return int(count or 0), earliest
