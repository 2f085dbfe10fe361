"""Known tickets for the month's review: three reports on Monday 2026-11-23 10:00 in
Shanghai, worked so that every figure of the review is known (see EXPECTED)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.tickets import ReportDraft
from bot.domain.workflow import Step
from bot.services.context import Context
from bot.services.intake import report
from bot.services.steps import run_step
from bot.sla.policy import Severity
from tests.fakes import FakeClock


async def _report(ctx: Context, severity: Severity, channel: str, summary: str) -> None:
    draft = ReportDraft(
        summary=summary,
        details="details",
        system="",
        severity=severity,
        reporter_id="U0REP",
        origin_channel=channel,
    )
    await report(ctx, draft=draft, intake_key=None)


async def known_month(ctx: Context, clock: FakeClock) -> None:
    """#1 A: ack 10 min, cause 30 min, plan 1h30, resolved at 2h, rated 4 (all in time).
    #2 B: ack at 40 min (respond late), no cause by 5h (diagnose breached at 4h).
    #3 C, Highway Monitoring Center: ack at 1h (in time); diagnose and plan still running.
    The clock ends at 15:00 (5 h after the reports)."""
    await _report(ctx, Severity.A, "C0RANDOM", "数据库停了")
    await _report(ctx, Severity.B, "C0RANDOM", "=cmd|' /C calc'!A0")
    await _report(ctx, Severity.C, "C0CUST1", "报表慢")
    steps = [
        (10, 1, Step("ack"), "U0ENG1"),
        (20, 1, Step("cause", text="disk full"), "U0ENG1"),
        (10, 2, Step("ack"), "U0ENG2"),
        (20, 3, Step("ack"), "U0ENG3"),
        (30, 1, Step("plan", text="clean up"), "U0ENG1"),
        (30, 1, Step("resolve", text="cleaned"), "U0ENG1"),
        (0, 1, Step("confirm", rating=4), "U0REP"),
    ]
    for minutes, number, step, user in steps:
        await clock.advance(timedelta(minutes=minutes))
        await run_step(ctx, number=number, step=step, user_id=user)
    await clock.advance(timedelta(hours=3))
