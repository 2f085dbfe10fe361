"""Tickets for tests that need one without a database: one factory, any field overridden."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.domain.tickets import NewTicket, Ticket, TicketState
from bot.sla.policy import Severity

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai

# A report as the use case stores it (open, class A, at NOW), before it has a number.
NEW_TICKET = NewTicket(
    summary="down",
    details="all down",
    system="",
    severity=Severity.A,
    state=TicketState.OPEN,
    reporter_id="U0REP",
    origin_channel=None,
    post_channel="C0SUPPORT",
    customer=None,
    in_warranty=True,
    reported_at=NOW,
)
_BASE = NEW_TICKET.numbered(1)


def make_ticket(**changes: Any) -> Ticket:
    """An open class A ticket #1 reported at :data:`NOW`, with ``changes`` applied."""
    return replace(_BASE, **changes)
