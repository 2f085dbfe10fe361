"""The service plan's worker: one asyncio task that sends plan tasks and posts the month's
review when they fall due. It sleeps until the earliest (or until woken), never polls while
nothing is due (it looks again after ``recheck`` for work armed by another process), and
survives errors: it logs, backs off and carries on (``failures``: the passes failed in a
row, which ``/healthz`` reports as the timer engine's). It is its own loop, beside the
timer engine of the SLA stages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.recheck = recheck
        self.backoff = backoff
        self.on_error = on_error  # counts the failed passes (/metrics)
        self.failures = 0  # passes failed in a row (/healthz says so from FAILING_PASSES)
        self.passes = 0
        self._armed = False
        self._wake = asyncio.Event()

    @property
    def healthy(self) -> bool:
        """Whether the last pass went through."""
        return self.failures == 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
                self.failures = 0
                until = await self._next_due()
            except Exception:  # a bad pass must not stop the plan: log, back off, go on
                self.failures += 1
                log.exception("service plan pass failed (%d in a row)", self.failures)
                if self.on_error is not None:
                    self.on_error()
                self._armed = False  # arm again from the config on the next pass
                # In real time, as the timer engine backs off: the next try does not wait
                # for the SLA clock (which a test's fake clock holds still).
                await asyncio.sleep(self.backoff.total_seconds())
                continue
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
