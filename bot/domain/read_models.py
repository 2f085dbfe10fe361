"""What the read-only use cases hand to the Slack layer: a ticket with its record, a listed
ticket, the month's figures, the Home tab's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain.rotation import OnCall
from bot.domain.service_plan import PlanTask
from bot.domain.tickets import Ticket


@dataclass(frozen=True)
class EventView:
    """One line of a ticket's history: who did what when, with the text they gave (a note,
    a cause) and the class a reclassification set, if any."""

    at: datetime
    actor_id: str
    kind: str
    text: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    deadlines: dict[str, datetime | None]  # None: paused while waiting (Deadlines.listed)
    events: list[EventView]  # the newest, oldest first
    earlier: bool = False  # the ticket has older events than these


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
