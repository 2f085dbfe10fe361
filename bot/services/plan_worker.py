"""The service plan's worker: one asyncio task that sends plan tasks and posts the month's
review when they fall due. It sleeps until the earliest (or until woken), never polls while
nothing is due (it looks again after ``recheck`` for work armed by another process), and
survives errors: it logs, backs off and carries on (``healthy`` says whether the last pass
went through). It is its own loop, beside the timer engine of the SLA stages."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import sleep_until_woken
from bot.services import plan
from bot.services.context import Context
from bot.services.review_post import arm_next_review, post_due_reviews
from storage import plan as plan_store

log = logging.getLogger(__name__)


class PlanWorker:
    def __init__(
        self,
        ctx: Context,
        client: AsyncWebClient,
        *,
        recheck: timedelta = timedelta(minutes=5),
        backoff: timedelta = timedelta(seconds=5),
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.recheck = recheck
        self.backoff = backoff
        self.healthy = True
        self.passes = 0
        self._armed = False
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
                self.healthy = True
                until = await self._next_due()
            except Exception:  # a bad pass must not stop the plan: log, back off, go on
                log.exception("service plan pass failed")
                self.healthy = False
                self._armed = False  # arm again from the config on the next pass
                until = self.ctx.clock.now() + self.backoff
            await sleep_until_woken(self.ctx.clock, self._wake, until)

    async def run_once(self) -> int:
        """Arm from the config (the first pass), then send what is due; how many were sent."""
        if not self._armed:
            await plan.sync(self.ctx)
            await arm_next_review(self.ctx)
            self._armed = True
        sent = 0
        while fired := await plan.fire_due(self.ctx):
            sent += fired
        sent += await post_due_reviews(self.ctx, self.client)
        self.passes += 1
        return sent

    async def _next_due(self) -> datetime:
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as conn:
            dues = [await plan_store.next_due_at(conn), await plan_store.next_post_at(conn)]
        found = [d for d in dues if d is not None]
        return min([*found, now + self.recheck])
