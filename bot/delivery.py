"""The outbox worker: sends what use cases owe Slack, after their commit, in order per ticket.

slack_sdk's retry handlers cover a single call (429 with Retry-After, 5xx, connection errors);
a notice that still fails is kept, retried with backoff, and never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.metrics import Metrics
from bot.services.context import Context
from storage import outbox
from storage import tickets as ticket_store
from storage.outbox import Notice

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
IDLE_WAIT = timedelta(minutes=5)


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]


class NotReady(Exception):
    """The notice depends on one not yet delivered (a thread reply before its ticket message)."""


class Delivery:
    def __init__(self, ctx: Context, client: AsyncWebClient, metrics: Metrics) -> None:
        self.ctx = ctx
        self.client = client
        self.metrics = metrics
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; sleep until the next row is due or a use case wakes us."""
        while True:
            self._wake.clear()
            sent = await self.drain_once()
            if sent:
                continue
            async with self.ctx.db.read() as session:
                due = await outbox.next_due_at(session)
            now = self.ctx.clock.now()
            until = min(due, now + IDLE_WAIT) if due else now + IDLE_WAIT
            if until > now:
                await self._sleep(until)

    async def _sleep(self, until: datetime) -> None:
        waker = asyncio.ensure_future(self._wake.wait())
        sleeper = asyncio.ensure_future(self.ctx.clock.sleep_until(until))
        try:
            await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waker, sleeper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drain_once(self) -> int:
        """Claim and send what is due now; return how many were handled."""
        now = self.ctx.clock.now()
        async with self.ctx.db.write() as session:
            notices = await outbox.claim_due(session, now=now)
        for notice in notices:
            await self._deliver(notice)
        return len(notices)

    async def _deliver(self, notice: Notice) -> None:
        try:
            result = await self._send(notice)
        except (SlackApiError, SlackClientError, NotReady, OSError, TimeoutError) as exc:
            error = _describe(exc)
            delay = min(timedelta(seconds=2 ** min(notice.attempts, 12)), MAX_BACKOFF)
            async with self.ctx.db.write() as session:
                await outbox.mark_failed(
                    session, notice.id, error=error, retry_at=self.ctx.clock.now() + delay
                )
            self.metrics.notices_failed.labels(kind=notice.kind).inc()
            log.warning(
                "delivery failed kind=%s attempt=%d error=%s",
                notice.kind,
                notice.attempts + 1,
                error,
                extra={"ticket": notice.ticket_number},
            )
            return
        async with self.ctx.db.write() as session:
            if notice.kind == "ticket_message" and "ts" in result and notice.ticket_number:
                await ticket_store.set_message_location(
                    session, notice.ticket_number, channel=result["channel"], ts=result["ts"]
                )
            await outbox.mark_sent(session, notice.id, now=self.ctx.clock.now(), result=result)
        self.metrics.notices_sent.labels(kind=notice.kind).inc()

    async def _send(self, notice: Notice) -> dict[str, Any]:
        payload = notice.payload
        if notice.kind == "ticket_message":
            return await self._send_ticket_message(notice)
        if notice.kind == "thread":
            channel, ts = await self._thread_of(notice)
            response = await self.client.chat_postMessage(
                channel=channel, thread_ts=ts, text=payload["text"], blocks=payload.get("blocks")
            )
        elif notice.kind == "dm":
            opened = await self.client.conversations_open(users=payload["user"])
            response = await self.client.chat_postMessage(
                channel=opened["channel"]["id"], text=payload["text"], blocks=payload.get("blocks")
            )
        elif notice.kind == "ephemeral":
            response = await self.client.chat_postEphemeral(**payload)
        else:
            response = await self.client.chat_postMessage(**payload)
        return {"channel": response.get("channel"), "ts": response.get("ts")}

    async def _send_ticket_message(self, notice: Notice) -> dict[str, Any]:
        number = notice.ticket_number
        assert number is not None, "a ticket_message notice always names its ticket"
        async with self.ctx.db.read() as session:
            ticket = await ticket_store.get_ticket(session, number)
            location = await ticket_store.message_location(session, number)
        if ticket is None:
            raise NotReady(f"ticket {number} is gone")
        text = blocks.ticket_fallback_text(ticket)
        body = blocks.ticket_message(ticket, self.ctx.deadlines(ticket), self.ctx.clock.now())
        if location is None:
            response = await self.client.chat_postMessage(
                channel=ticket.post_channel,
                text=text,
                blocks=body,
                unfurl_links=False,
                unfurl_media=False,
            )
        else:
            response = await self.client.chat_update(
                channel=location[0], ts=location[1], text=text, blocks=body
            )
        return {"channel": response["channel"], "ts": response["ts"]}

    async def _thread_of(self, notice: Notice) -> tuple[str, str]:
        if notice.ticket_number is None:
            raise NotReady("a thread reply needs a ticket")
        async with self.ctx.db.read() as session:
            location = await ticket_store.message_location(session, notice.ticket_number)
        if location is None:
            raise NotReady(f"ticket {notice.ticket_number} has no message yet")
        return location


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"slack error: {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"
