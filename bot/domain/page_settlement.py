"""When a page's step was taken (SPEC §6: a page whose step was taken says so and loses its
buttons), read from the ticket's record: the first change after the page was sent that met
the milestone it names, took the ticket (a manager's page: its owner changed), resolved
or closed it, or reclassified it (the page's class and due time are no longer the promise:
the new class's own stages page again where it pages). From the record, not from the
ticket as it is now: a page once settled stays settled (a reopen does not make it ask
again) and names who took the step (a later reassign does not rewrite that)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.tickets import MET_FIELDS


class Step(StrEnum):
    MET = "met"  # the page's milestone was met
    TAKEN = "taken"  # someone took the ticket (a manager's page)
    ENDED = "ended"  # the ticket was resolved or closed
    RECLASSIFIED = "reclassified"  # the ticket's class changed


@dataclass(frozen=True)
class Change:
    """One recorded change of a ticket: when, who (empty: the bot itself), the after values,
    and the step's kind (``severity``: a reclassify)."""

    at: datetime
    actor: str
    after: Mapping[str, Any]
    kind: str = ""


@dataclass(frozen=True)
class Settled:
    step: Step
    what: str  # the milestone met, the state the ticket ended in, the new class; "" if TAKEN
    by: str | None  # who took the step (None: the bot itself)


def settlement(
    page: Mapping[str, Any], paged_at: datetime, changes: Iterable[Change]
) -> Settled | None:
    """How the page (its payload, sent at ``paged_at``) was settled by the ticket's
    ``changes`` (oldest first), or None while its step is still to take."""
    milestone = str(page.get("milestone") or "")
    met_field = MET_FIELDS.get(milestone)
    for change in changes:
        if change.at < paged_at:
            continue
        after, by = change.after, change.actor or None
        if after.get("resolved_at") or after.get("closed_at"):
            state = after.get("state") or ("closed" if after.get("closed_at") else "resolved")
            return Settled(Step.ENDED, str(state), by)
        if met_field is not None and after.get(met_field):
            return Settled(Step.MET, milestone, by)
        owner = after.get("assignee_id")
        if page.get("manager") and owner and owner != page.get("assignee"):
            return Settled(Step.TAKEN, "", str(owner))
        if change.kind == "severity" and after.get("severity"):
            return Settled(Step.RECLASSIFIED, str(after["severity"]), by)
    return None
