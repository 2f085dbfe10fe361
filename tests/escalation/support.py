"""Helpers for the timer tests: a config with a known rotation, opening and working tickets."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from bot.config import Config, parse_config
from bot.domain.tickets import ReportDraft, Ticket
from bot.services.arming import replace_timers
from bot.services.context import Context
from bot.services.intake import report
from bot.sla.policy import Severity
from storage import tickets as ticket_store
from storage.tables import OutboxRow, TicketRow, TimerRow
from tests.conftest import CONFIG_DATA

CONFIG = {
    **CONFIG_DATA,
    "oncall": {
        "primary": ["U0ENG1", "U0ENG2"],
        "secondary": ["U0ENG3"],
        "shift": "1w",
        "handoff": "2026-11-23T09:00",
    },
}


def timer_config(**overrides: Any) -> Config:
    return parse_config({**CONFIG, **overrides})


def draft(severity: Severity, summary: str = "Toll gates refuse cards") -> ReportDraft:
    return ReportDraft(
        summary=summary,
        details="Since 09:40 every lane says <!channel> card error",
        system="toll",
        severity=severity,
        reporter_id="U0REP",
        origin_channel="C0RANDOM",
    )


async def open_ticket(ctx: Context, severity: Severity, summary: str = "Gates down") -> Ticket:
    outcome = await report(ctx, draft=draft(severity, summary), intake_key=None)
    return outcome.ticket


async def meet(ctx: Context, number: int, **fields: datetime) -> Ticket:
    """What an issue-5 use case does: change the ticket, bump its version, re-arm, wake."""
    async with ctx.db.write() as session:
        await session.execute(
            update(TicketRow)
            .where(TicketRow.number == number)
            .values(**fields, version=TicketRow.version + 1)
        )
        ticket = await ticket_store.get_ticket(session, number)
        assert ticket is not None
        await replace_timers(session, ctx, [ticket])
    ctx.wake_engine(None)
    return ticket


async def bump_version(ctx: Context, number: int) -> None:
    """A change that does not re-arm (the engine must treat the timers as stale)."""
    async with ctx.db.write() as session:
        await session.execute(
            update(TicketRow)
            .where(TicketRow.number == number)
            .values(version=TicketRow.version + 1)
        )


async def settle(ctx: Context, rounds: int = 2000) -> None:
    """Wait (bounded) until nothing is due at the clock's now and the outbox is empty."""
    for _ in range(rounds):
        now = ctx.clock.now()
        async with ctx.db.orm() as session:
            due = await session.scalar(
                select(func.count())
                .select_from(TimerRow)
                .where(TimerRow.fired_at.is_(None), TimerRow.due_at <= now)
            )
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
        if not due and not unsent:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"engine and delivery did not settle: due={due} unsent={unsent}")


async def fired(ctx: Context, number: int) -> dict[str, str]:
    """The ticket's fired stages: key -> outcome."""
    async with ctx.db.orm() as session:
        rows = await session.execute(
            select(TimerRow.key, TimerRow.outcome).where(
                TimerRow.ticket_number == number, TimerRow.fired_at.is_not(None)
            )
        )
        return {key: str(outcome) for key, outcome in rows}


async def pending(ctx: Context, number: int) -> dict[str, datetime]:
    async with ctx.db.orm() as session:
        rows = await session.execute(
            select(TimerRow.key, TimerRow.due_at).where(
                TimerRow.ticket_number == number, TimerRow.fired_at.is_(None)
            )
        )
        return {key: due for key, due in rows}
