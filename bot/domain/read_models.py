"""What the read-only use cases hand to the Slack layer: a ticket with its record, a listed
ticket, the month's figures, the Home tab's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.domain.rotation import OnCall
from bot.domain.service_plan import PlanTask
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
class Listing:
    """The first tickets of a list, in order of time left, and how many it holds in all."""

    items: list[Listed]
    total: int


@dataclass(frozen=True)
class HomeData:
    mine: list[Listed]
    team: list[Listed] | None  # for engineers and managers
    on_call: tuple[OnCall, OnCall]  # now and next
    # Service-plan tasks past their cadence: (customer, task, due day, overdue since).
    overdue_plan: list[tuple[str, PlanTask, date, datetime]] = field(default_factory=list)
    # How many tickets each list holds when that is more than it has items (None: as many).
    mine_total: int | None = None
    team_total: int | None = None
