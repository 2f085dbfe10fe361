"""What every use case is handed: the database, the config, the clock, and who to wake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.config import Config
from bot.sla.deadlines import compute_deadlines
from bot.tickets import Ticket
from storage.db import Database


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Context:
    db: Database
    config: Config
    clock: Clock
    wake_delivery: Callable[[], None] = field(default=_nothing)

    def deadlines(self, ticket: Ticket) -> dict[str, datetime]:
        """The ticket's deadlines, by milestone name, for the ones that apply."""
        return dict(
            compute_deadlines(
                policy=self.config.policy,
                calendar=self.config.calendar,
                severity=ticket.severity,
                reported_at=ticket.reported_at,
                in_warranty=ticket.in_warranty,
                cause_at=ticket.cause_at,
                pauses=ticket.pauses,
                fix_date=ticket.fix_date,
            ).as_dict()
        )
