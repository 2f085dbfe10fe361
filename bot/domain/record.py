"""The record of a ticket: the before and after of every field a step moved, and the ticket
that replaying the recorded events makes. Pure: JSON values in and out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.domain.tickets import Ticket, TicketState
from bot.sla.deadlines import Pause
from bot.sla.policy import Severity

_RECORDED = tuple(f.name for f in fields(Ticket) if f.name not in ("number", "version"))
_DATES = (datetime, date)


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """Every recorded field of the ticket, as JSON values."""
    return {name: to_json(getattr(ticket, name)) for name in _RECORDED}


def diff(old: Ticket, new: Ticket) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in _RECORDED:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            before[name] = to_json(a)
            after[name] = to_json(b)
    return before, after


def replay(number: int, events: list[Mapping[str, Any]]) -> Ticket:
    """The ticket that the recorded events make, the first being its report (a snapshot)."""
    state: dict[str, Any] = {}
    for event in events:
        state.update({k: v for k, v in event.items() if k in _RECORDED})
    return from_json(number, state, version=len(events))


def to_json(value: Any) -> Any:
    if isinstance(value, _DATES):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in value]
    return value


def from_json(number: int, data: Mapping[str, Any], *, version: int) -> Ticket:
    def when(name: str) -> datetime | None:
        raw = data.get(name)
        return datetime.fromisoformat(raw) if raw else None

    fix = data.get("fix_date")
    return Ticket(
        number=number,
        summary=data["summary"],
        details=data["details"],
        system=data["system"],
        severity=Severity(data["severity"]),
        state=TicketState(data["state"]),
        reporter_id=data["reporter_id"],
        origin_channel=data["origin_channel"],
        post_channel=data["post_channel"],
        customer=data["customer"],
        in_warranty=data["in_warranty"],
        assignee_id=data["assignee_id"],
        reported_at=datetime.fromisoformat(data["reported_at"]),
        acknowledged_at=when("acknowledged_at"),
        cause_at=when("cause_at"),
        plan_at=when("plan_at"),
        resolved_at=when("resolved_at"),
        closed_at=when("closed_at"),
        version=version,
        fix_date=date.fromisoformat(fix) if fix else None,
        pauses=tuple(
            Pause(datetime.fromisoformat(s), datetime.fromisoformat(e) if e else None)
            for s, e in data.get("pauses", [])
        ),
        cause=data.get("cause", ""),
        plan=data.get("plan", ""),
        resolution=data.get("resolution", ""),
        rating=data.get("rating"),
        rating_comment=data.get("rating_comment", ""),
        extra=dict(data.get("extra", {})),
    )
