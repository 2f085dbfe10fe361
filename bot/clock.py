"""Injected time. Nothing else in the bot asks the system for the time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return at ``when`` or soon after."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


async def sleep_until_woken(clock: Clock, wake: asyncio.Event, until: datetime) -> None:
    """Sleep until ``until`` on ``clock``, or until ``wake`` is set, whichever comes first."""
    waker = asyncio.ensure_future(wake.wait())
    sleeper = asyncio.ensure_future(clock.sleep_until(until))
    try:
        await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Cancelled, not awaited: awaiting them here could swallow a cancellation of the
        # caller that arrives meanwhile (the caller would then sleep on, never to be stopped).
        for task in (waker, sleeper):
            task.cancel()
