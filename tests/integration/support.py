"""Helpers shared by the integration tests."""

from bot.domain.tickets import ReportDraft
from bot.services.context import Context
from bot.services.intake import report
from bot.sla.policy import Severity


async def opened(ctx: Context, n: int, severity: Severity = Severity.B) -> int:
    """The number of a ticket reported through the real use case."""
    draft = ReportDraft(
        summary=f"problem {n}",
        details="details",
        system="billing",
        severity=severity,
        reporter_id="U0REP",
        origin_channel=None,
    )
    return (await report(ctx, draft=draft, intake_key=f"view:{n}")).ticket.number
