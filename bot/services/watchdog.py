"""The watchdog: a due timer not fired for over a minute means the timer engine is stuck or
down; it says so in the log and in /metrics (``escalator_timers_overdue``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.metrics import Metrics
from bot.services.context import Context
from storage import stage_timers as timer_store

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=1)


class Watchdog:
    def __init__(
        self,
        ctx: Context,
        metrics: Metrics,
        *,
        every: float = 15.0,  # seconds between looks (real time)
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.every = every
        self._pause = pause

    async def look(self) -> int:
        """One look: how many timers are overdue by more than a minute (logged when any)."""
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as conn:
            count, earliest = await timer_store.overdue(conn, before=now - GRACE)
        late = 0.0 if earliest is None else (now - earliest).total_seconds()
        self.metrics.timers_overdue.set(count)
        self.metrics.timers_overdue_seconds.set(late if count else 0.0)
        if count:
            log.warning(
                "watchdog: %d timers due for over a minute and not fired (the oldest %.0f s)",
                count,
                late,
            )
        return count

    async def run(self) -> None:
        while True:
            try:
                await self.look()
            except Exception:
                log.exception("watchdog look failed")
            await self._pause(self.every)
