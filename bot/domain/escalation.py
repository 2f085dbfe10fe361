"""Who a fired stage reaches (SPEC §5): the ticket's thread, a page by DM, the managers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bot.domain.rotation import OnCall
from bot.domain.tickets import Ticket
from bot.sla.stages import Stage, StageKind


class Audience(Enum):
    THREAD = "thread"  # the ticket's thread, naming someone
    DM = "dm"  # a direct message (a page) to one person
    MANAGERS = "managers"  # the managers channel


@dataclass(frozen=True)
class Recipient:
    audience: Audience
    user: str | None = None  # the DM's recipient, or who a thread message names


def recipients(
    stage: Stage, *, ticket: Ticket, oncall: OnCall, managers: Sequence[str]
) -> list[Recipient]:
    """Where a stage's notices go. A page with no one to page says so in the thread."""
    owner = ticket.assignee_id or oncall.primary
    kind = stage.kind
    if kind in (StageKind.AUTOCLOSE, StageKind.OVERDUE):
        return []  # the close, or the card shown again, tells the story
    if kind is StageKind.REMINDER:
        return [Recipient(Audience.THREAD, owner)]
    if kind is StageKind.PAGE_PRIMARY:
        primary = oncall.primary
        return [Recipient(Audience.DM, primary)] if primary else [Recipient(Audience.THREAD)]
    if kind is StageKind.PAGE_SECONDARY:
        second = oncall.secondary
        found = [Recipient(Audience.DM, second)] if second else []
        return [*found, Recipient(Audience.THREAD, second)]
    pages = [Recipient(Audience.DM, manager) for manager in managers]
    if kind is StageKind.BREACH:
        return [Recipient(Audience.MANAGERS), Recipient(Audience.THREAD, owner)]
    return pages or [Recipient(Audience.MANAGERS)]
