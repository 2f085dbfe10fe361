"""What the read-only use cases hand to the Slack layer: a ticket with its record, a listed
ticket, the month's figures, the Home tab's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.rotation import OnCall
from bot.domain.tickets import Ticket


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor_id: str
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    deadlines: dict[str, datetime]
    events: list[EventView]


@dataclass(frozen=True)
class Listed:
    ticket: Ticket
    next_due: tuple[str, datetime] | None  # the earliest unmet milestone


@dataclass(frozen=True)
class MonthReport:
    month: str
    by_class: dict[str, int]
    met: dict[str, tuple[int, int]]  # milestone -> (met in time, due)
    ratings: list[int]
    closed: int
    autoclosed: int

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


@dataclass(frozen=True)
class HomeData:
    mine: list[Listed]
    team: list[Listed] | None  # for engineers and managers
    on_call: tuple[OnCall, OnCall]  # now and next
