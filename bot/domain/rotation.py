"""Who is on call: the primary and secondary at any instant (SPEC §5). Pure: no I/O.

The rotation of ``[oncall]`` hands over every ``shift``, starting at ``handoff``: shift ``k``
(counted from the handoff, negative before it) is held by ``primary[k % len(primary)]`` and
``secondary[k % len(secondary)]``. An :class:`Override` replaces the primary from its
``start`` up to (not including) its ``end``; where overrides overlap, the one given last
wins. Shifts are real elapsed time, so a DST change does not move a handoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Without a configured handoff the rotation starts on a Monday at 09:00 local time.
DEFAULT_HANDOFF_LOCAL = datetime(2024, 1, 1, 9, 0)


@dataclass(frozen=True)
class Override:
    """``user`` is the primary from ``start`` up to ``end``."""

    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class OnCall:
    """Who holds the pager from ``since`` up to ``until`` (nothing changes in between)."""

    primary: str | None
    secondary: str | None
    since: datetime
    until: datetime
    override: bool = False  # the primary comes from an override


@dataclass(frozen=True)
class OnCallRotation:
    primary: tuple[str, ...]
    secondary: tuple[str, ...]
    shift: timedelta
    handoff: datetime
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        if self.shift <= timedelta(0):
            raise ValueError("a shift must be longer than zero")
        if self.handoff.tzinfo is None:
            raise ValueError("the handoff must be timezone-aware")

    @classmethod
    def build(
        cls,
        *,
        primary: Sequence[str],
        secondary: Sequence[str],
        shift: timedelta,
        handoff: datetime | None,
        tz: ZoneInfo,
        overrides: Sequence[Override] = (),
    ) -> OnCallRotation:
        start = handoff if handoff is not None else DEFAULT_HANDOFF_LOCAL.replace(tzinfo=tz)
        return cls(tuple(primary), tuple(secondary), shift, start, tuple(overrides))

    def with_overrides(self, overrides: Sequence[Override]) -> OnCallRotation:
        return OnCallRotation(
            self.primary, self.secondary, self.shift, self.handoff, tuple(overrides)
        )

    # ---- the rotation ---------------------------------------------------------------

    def shift_index(self, t: datetime) -> int:
        return (t.astimezone(UTC) - self.handoff.astimezone(UTC)) // self.shift

    def shift_start(self, index: int) -> datetime:
        return (self.handoff.astimezone(UTC) + index * self.shift).astimezone(self.handoff.tzinfo)

    def _override_at(self, t: datetime) -> Override | None:
        for override in reversed(self.overrides):
            if override.start <= t < override.end:
                return override
        return None

    def at(self, t: datetime) -> OnCall:
        """Who is on call at ``t``, and for how long that stays so."""
        index = self.shift_index(t)
        since, until = self.shift_start(index), self.shift_start(index + 1)
        # Override edges cut the shift into the stretches where the primary is constant.
        for override in self.overrides:
            for edge in (override.start, override.end):
                if since < edge <= t:
                    since = edge
                elif t < edge < until:
                    until = edge
        active = self._override_at(t)
        primary = active.user if active else _pick(self.primary, index)
        return OnCall(
            primary=primary,
            secondary=_pick(self.secondary, index),
            since=since,
            until=until,
            override=active is not None,
        )

    def now_and_next(self, t: datetime) -> tuple[OnCall, OnCall]:
        """Who is on call at ``t`` and who takes over next (skipping changes that change no
        one, such as a handoff in a rotation of one; at most a year ahead). The current
        stretch lasts until the next one starts: the same people across a handoff or the
        end of an override are on call without a break."""
        current = self.at(t)
        following = self.at(current.until)
        horizon = t + timedelta(days=366)
        while (following.primary, following.secondary) == (
            current.primary,
            current.secondary,
        ) and following.until <= horizon:
            following = self.at(following.until)
        return replace(current, until=following.since), following


def _pick(people: tuple[str, ...], index: int) -> str | None:
    return people[index % len(people)] if people else None
