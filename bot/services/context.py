"""What every use case is handed: the database, the config, the clock, and who to wake."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.config import Config
from bot.domain.roles import Actor
from bot.domain.tickets import Promise, Ticket, deadlines_of, promise
from bot.services.group_commit import Batcher
from bot.services.kb_search import KbSearches
from bot.sla.calendar import CalendarRangeError
from bot.sla.deadlines import Deadlines
from bot.slack.i18n import Translator, translator
from storage.db import Database
from storage.ticket_reads import Shown

log = logging.getLogger(__name__)


class WakeDelivery(Protocol):
    """Tells the delivery worker notices are owed: in ``conversations`` (as
    ``storage.outbox.enqueue_many`` returns them), or anywhere (None)."""

    def __call__(self, conversations: Collection[str] | None = None) -> None: ...


def _nothing(conversations: Collection[str] | None = None) -> None:
    return None


def _no_timer(_due: datetime | None = None) -> None:
    return None


@dataclass(frozen=True)
class Context:
    db: Database
    config: Config
    clock: Clock
    wake_delivery: WakeDelivery = field(default=_nothing)
    # A timer due at the given instant (None: unknown) was armed; the engine wakes when that
    # is earlier than what it sleeps for.
    wake_engine: Callable[[datetime | None], None] = field(default=_no_timer)
    # The reads behind `show`, batched (bot.services.queries.show_reads); None: each alone.
    shows: Batcher[int, Shown] | None = None
    # The running bot's batch of knowledge-base searches (bot.app.build makes it); without
    # one (the command line, some tests) each search reads on its own.
    kb_searches: KbSearches | None = None

    @property
    def tr(self) -> Translator:
        """The workspace's language (SPEC §3 ``language``): what channels read."""
        return translator(self.config.language, self.config.tz)

    def actor(self, user_id: str) -> Actor:
        """The person, with the roles the config gives them."""
        config = self.config
        return Actor(user_id, config.is_engineer(user_id), config.is_manager(user_id))

    def schedule(self, ticket: Ticket) -> Deadlines:
        """The ticket's deadlines, with which are provisional (none, and a logged error, for
        an instant beyond the calendar's years: an agreed fix date at the end of 9999)."""
        try:
            return deadlines_of(ticket, policy=self.config.policy, calendar=self.config.calendar)
        except CalendarRangeError as error:
            log.error("deadlines unknown: %s", error, extra={"ticket": ticket.number})
            return Deadlines(respond=None, diagnose=None, plan=None, resolve=None)

    def promised(self, ticket: Ticket, deadlines: Deadlines | None) -> Promise:
        """What is stored of the ticket's deadlines as they stand (``deadlines``): what the
        month's review holds it to (respond as first promised) and its next one due."""
        config = self.config
        return promise(ticket, deadlines, policy=config.policy, calendar=config.calendar)

    def deadlines(self, ticket: Ticket) -> dict[str, datetime]:
        """The ticket's deadlines, by milestone name, for the ones that apply."""
        return self.schedule(ticket).as_dict()
