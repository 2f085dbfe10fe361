"""The outbox worker: sends what use cases owe Slack, after their commit, in order per ticket.

slack_sdk's retry handlers cover a single call (429 with Retry-After, 5xx, connection errors);
a notice that still fails is kept, retried with backoff, and never dropped. Each channel is
paced to Slack's posting rate (about one message a second, with short bursts): the notices
of one batch (at most one per ticket) go out concurrently, each waiting for its channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

from bot.clock import sleep_until_woken
from bot.domain.notices import NoticeKind
from bot.metrics import Metrics
from bot.services.context import Context
from bot.slack import blocks
from bot.slack import paging as blocks_pages
from storage import outbox
from storage import tickets as ticket_store
from storage.outbox import Notice

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
NOTICE_EVENT = "escalator_notice"  # message metadata: which outbox row a message delivers
HISTORY_PAGES = 10  # pages of 200 messages read to find a notice in doubt
# Slack's answers that no retry can change: the notice is kept with the error, and the
# notices after it (of the same ticket) go on.
PERMANENT_ERRORS = frozenset(
    {
        "msg_too_long",
        "invalid_blocks",
        "invalid_attachments",
        "no_text",
        "channel_not_found",
        "user_not_found",
        "is_archived",
        "invalid_arguments",
        "too_many_attachments",
    }
)
# A message that cannot be updated any more: an answered prompt leaves it as it is.
GONE_MESSAGE_ERRORS = frozenset({"message_not_found", "cant_update_message", "channel_not_found"})
IDLE_WAIT = timedelta(minutes=5)
POST_RATE = 1.0  # messages per second per channel
POST_BURST = 4
MAX_PACE_WAIT = 2.0  # longer than this, and the notice goes back for a later batch
MAX_HOLD_SLEEP = 1.0  # seconds the worker sleeps, at most, while rows wait for their channels


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]


class NotReady(Exception):
    """The notice depends on one not yet delivered (a thread reply before its ticket message)."""


class Paced(Exception):
    """The channel is at its posting rate; the notice waits ``wait`` seconds for a later batch."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"paced for {wait:.2f}s")
        self.wait = wait


class ChannelPacer:
    """A token bucket per channel: ``rate`` messages a second on average, ``burst`` at once.

    Real elapsed time (``monotonic``), not the bot's clock: it paces calls to Slack."""

    def __init__(
        self,
        rate: float = POST_RATE,
        burst: int = POST_BURST,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}

    def reserve(self, channel: str, max_wait: float) -> float | None:
        """Take a turn on ``channel``: seconds to wait before posting, or None (no turn taken)
        when that would be longer than ``max_wait``."""
        now = self.monotonic()
        tokens, last = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = max(0.0, (1.0 - tokens) / self.rate)
        if wait > max_wait:
            self._buckets[channel] = (tokens, now)
            return None
        self._buckets[channel] = (tokens - 1.0, now)
        return wait

    def wait_for(self, channel: str) -> float:
        tokens, last = self._buckets.get(channel, (float(self.burst), self.monotonic()))
        tokens = min(float(self.burst), tokens + (self.monotonic() - last) * self.rate)
        return max(0.0, (1.0 - tokens) / self.rate)


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed notice: sent (``result``), failed (``error``), or handed
    back untried because its channel is at the posting rate (``paced``: seconds to wait)."""

    notice: Notice
    result: dict[str, Any] | None = None
    error: str | None = None
    paced: float | None = None
    dead: bool = False  # Slack refuses it for good: kept with its error, not tried again


class Delivery:
    def __init__(
        self,
        ctx: Context,
        client: AsyncWebClient,
        metrics: Metrics,
        *,
        pacer: ChannelPacer | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.metrics = metrics
        self.pacer = pacer or ChannelPacer()
        self._pause = pause
        self._wake = asyncio.Event()
        self._dm_channels: dict[str, str] = {}
        self._turns: dict[int, float] = {}  # notice id -> wait for the turn taken at claim
        self._held_for: float | None = None  # the first turn of a channel that held notices

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; sleep until the next row is due or a use case wakes us."""
        while True:
            self._wake.clear()
            sent = await self.drain_once()
            if sent:
                continue
            if self._held_for is not None:
                # Due rows wait for their channels' turns: sleep until the first turn (new
                # rows would wait for the same turns), then claim again.
                await self._pause(min(self._held_for, MAX_HOLD_SLEEP))
                continue
            now = self.ctx.clock.now()
            async with self.ctx.db.read() as conn:
                due = await outbox.next_due_at(conn, after=now)
            # Nothing was claimable: sleep (always; a due row that waits behind another of
            # its ticket must not make this loop spin) until a row may be tried, or a wake.
            await self._sleep(min(due, now + IDLE_WAIT) if due else now + IDLE_WAIT)

    async def _sleep(self, until: datetime) -> None:
        await sleep_until_woken(self.ctx.clock, self._wake, until)

    async def drain_once(self) -> int:
        """Claim and send what is due now; return how many were handled.

        A claim holds at most one notice per ticket, so tickets go concurrently; notices
        without a ticket keep their order in one lane. What became of each notice (sent,
        failed, paced) is written back in one transaction at the end."""
        now = self.ctx.clock.now()
        self._held_for = None
        async with self.ctx.db.write(background=True) as conn:
            notices = await outbox.claim_due(conn, now=now, hold=self._hold)
        if not notices:
            return 0
        loose = [n for n in notices if n.ticket_number is None]
        lanes = [[n] for n in notices if n.ticket_number is not None]
        lanes += [loose] if loose else []
        results = await asyncio.gather(*(self._lane(lane) for lane in lanes))
        outcomes = [outcome for lane in results for outcome in lane]
        self._turns.clear()  # turns of notices that never reached their send
        await self._record(outcomes)
        waits = [o.paced for o in outcomes if o.paced]
        if waits and all(o.paced is not None for o in outcomes):  # all paced: let them catch up
            await self._pause(min(waits))
        return len(notices)

    def _hold(self, notice: Notice) -> bool:
        """At claim time: take the notice's turn on its channel, or leave it unclaimed (True)
        when the turn is further off than ``MAX_PACE_WAIT``. A channel not known before
        sending (a first DM to someone) takes its turn when sent."""
        channel = self._channel_hint(notice)
        if channel is None:
            return False
        wait = self.pacer.reserve(channel, MAX_PACE_WAIT)
        if wait is None:
            later = self.pacer.wait_for(channel)
            self._held_for = later if self._held_for is None else min(self._held_for, later)
            return True
        self._turns[notice.id] = wait
        return False

    def _channel_hint(self, notice: Notice) -> str | None:
        kind, payload = notice.kind, notice.payload
        if kind == NoticeKind.TICKET_MESSAGE:
            return notice.location[0] if notice.location else notice.post_channel
        if kind == NoticeKind.THREAD:
            return notice.location[0] if notice.location else None
        if kind in (NoticeKind.DM, NoticeKind.PAGE):
            return self._dm_channels.get(str(payload.get("user")))
        channel = payload.get("channel")
        return channel if isinstance(channel, str) else None

    async def _lane(self, notices: list[Notice]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for notice in notices:
            outcome = await self._deliver(notice)
            outcomes.append(outcome)
            if outcome.result is None:  # keep the lane's order: stop at the first unsent
                behind = outcome.paced or 0.0
                outcomes += [Outcome(n, paced=behind) for n in notices[len(outcomes) :]]
                break
        return outcomes

    async def _deliver(self, notice: Notice) -> Outcome:
        """Send one notice; say whether it was sent, failed, or waits for its channel."""
        try:
            result = await self._send(notice)
        except Paced as paced:
            return Outcome(notice, paced=paced.wait)
        except (SlackApiError, SlackClientError, NotReady, OSError, TimeoutError) as exc:
            error = _describe(exc)
            self.metrics.notices_failed.labels(kind=notice.kind).inc()
            if isinstance(exc, SlackApiError) and exc.response.get("error") in PERMANENT_ERRORS:
                log.error(
                    "delivery refused for good kind=%s error=%s",
                    notice.kind,
                    error,
                    extra={"ticket": notice.ticket_number},
                )
                return Outcome(notice, error=error, dead=True)
            log.warning(
                "delivery failed kind=%s attempt=%d error=%s",
                notice.kind,
                notice.attempts + 1,
                error,
                extra={"ticket": notice.ticket_number},
            )
            return Outcome(notice, error=error)
        self.metrics.notices_sent.labels(kind=notice.kind).inc()
        log.info(
            "delivered kind=%s channel=%s ts=%s",
            notice.kind,
            result.get("channel"),
            result.get("ts"),
            extra={"ticket": notice.ticket_number},
        )
        return Outcome(notice, result=result)

    async def _record(self, outcomes: list[Outcome]) -> None:
        now = self.ctx.clock.now()
        async with self.ctx.db.write(background=True) as conn:
            for o in outcomes:
                notice = o.notice
                if o.result is not None:
                    if (
                        notice.kind == NoticeKind.TICKET_MESSAGE
                        and notice.ticket_number
                        and "ts" in o.result
                    ):
                        await ticket_store.set_message_location(
                            conn,
                            notice.ticket_number,
                            channel=o.result["channel"],
                            ts=o.result["ts"],
                        )
                    await outbox.mark_sent(conn, notice.id, now=now, result=o.result)
                elif o.dead and o.error is not None:
                    await outbox.mark_dead(conn, notice.id, now=now, error=o.error)
                elif o.error is not None:
                    delay = min(timedelta(seconds=2 ** min(notice.attempts, 12)), MAX_BACKOFF)
                    await outbox.mark_failed(conn, notice.id, error=o.error, retry_at=now + delay)
            paced = [o.notice.id for o in outcomes if o.paced is not None]
            if paced:
                await outbox.release_many(conn, paced)

    async def _pace(self, channel: str, notice: Notice) -> None:
        wait = self._turns.pop(notice.id, None)  # taken at claim time
        if wait is None:
            wait = self.pacer.reserve(channel, MAX_PACE_WAIT)
        if wait is None:
            raise Paced(self.pacer.wait_for(channel))
        if wait > 0:
            await self._pause(wait)

    async def _send(self, notice: Notice) -> dict[str, Any]:
        payload = notice.payload
        text, body = payload.get("text"), payload.get("blocks")
        if notice.kind == NoticeKind.TICKET_MESSAGE:
            return await self._send_ticket_message(notice)
        if notice.kind == NoticeKind.SETTLE:
            return await self._settle(notice)
        if notice.kind == NoticeKind.THREAD:
            channel, ts = await self._thread_of(notice)
            await self._pace(channel, notice)
            return await self._post(notice, channel=channel, thread_ts=ts, text=text, blocks=body)
        if notice.kind in (NoticeKind.DM, NoticeKind.PAGE):
            channel = await self._dm_channel(payload["user"])
            if notice.kind == NoticeKind.PAGE and body:
                body = await self._linked(notice, body)
            await self._pace(channel, notice)
            return await self._post(notice, channel=channel, text=text, blocks=body)
        channel = str(payload.get("channel"))
        await self._pace(channel, notice)
        return await self._post(notice, channel=channel, text=text, blocks=body, unfurl_links=False)

    async def _post(
        self, notice: Notice, *, channel: str, thread_ts: str | None = None, **content: Any
    ) -> dict[str, Any]:
        """chat.postMessage, carrying the outbox id in the message's metadata. A notice in
        doubt (a process stopped while sending it) is first looked for in the channel or
        thread, and not posted again when Slack has it: each notice is posted once."""
        if notice.in_doubt:
            found = await self._already_posted(notice, channel, thread_ts)
            if found is not None:
                log.info("found delivered before", extra={"ticket": notice.ticket_number})
                return found
        response = await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            metadata={"event_type": NOTICE_EVENT, "event_payload": {"notice": notice.id}},
            **content,
        )
        return {"channel": response.get("channel"), "ts": response.get("ts")}

    async def _already_posted(
        self, notice: Notice, channel: str, thread_ts: str | None
    ) -> dict[str, Any] | None:
        """The message that delivers ``notice``, if Slack has it: read the thread, or the
        channel's latest history, page by page (newest first)."""
        if channel[:1] not in ("C", "G", "D"):
            return None  # a #name, not an id: history cannot be read by it
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                if thread_ts is not None:
                    found = await self.client.conversations_replies(
                        channel=channel,
                        ts=thread_ts,
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
                else:
                    found = await self.client.conversations_history(
                        channel=channel,
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
            except (SlackApiError, SlackClientError, OSError, TimeoutError):
                return None  # cannot tell: post it (at least once rather than never)
            for message in found.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == NOTICE_EVENT
                    and payload.get("notice") == notice.id
                ):
                    return {"channel": channel, "ts": message.get("ts")}
            cursor = (found.get("response_metadata") or {}).get("next_cursor") or None
            if not found.get("has_more") or not cursor:
                return None
        return None

    async def _dm_channel(self, user: str) -> str:
        """The bot's DM channel with ``user`` (stable, so asked of Slack once per user)."""
        channel = self._dm_channels.get(user)
        if channel is None:
            opened = await self.client.conversations_open(users=user)
            channel = str(opened["channel"]["id"])
            self._dm_channels[user] = channel
        return channel

    async def _linked(self, notice: Notice, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The page's Open ticket button, linked to the ticket message once it is posted."""
        if notice.ticket_number is None:
            return body
        async with self.ctx.db.read() as conn:
            location = await ticket_store.message_location(conn, notice.ticket_number)
        if location is None:
            return body
        try:
            found = await self.client.chat_getPermalink(channel=location[0], message_ts=location[1])
        except (SlackApiError, SlackClientError, OSError, TimeoutError):
            return body  # the button still works as an action
        link = found.get("permalink")
        return blocks_pages.with_link(body, link) if isinstance(link, str) else body

    async def _send_ticket_message(self, notice: Notice) -> dict[str, Any]:
        number = notice.ticket_number
        assert number is not None, "a ticket_message notice always names its ticket"
        async with self.ctx.db.read() as conn:
            ticket, location = await ticket_store.ticket_and_location(conn, number)
        if ticket is None:
            raise NotReady(f"ticket {number} is gone")
        await self._pace(location[0] if location else ticket.post_channel, notice)
        text = blocks.ticket_fallback_text(ticket)
        schedule = self.ctx.schedule(ticket)
        body = blocks.ticket_message(
            ticket, schedule.as_dict(), self.ctx.clock.now(), schedule.provisional_names
        )
        if location is None:
            return await self._post(
                notice,
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

    async def _settle(self, notice: Notice) -> dict[str, Any]:
        """Update each message that asked the answered prompt (they were sent before: the
        ticket's notices go in order). A message Slack no longer has is left alone."""
        assert notice.ticket_number is not None, "a settle notice always names its ticket"
        async with self.ctx.db.read() as conn:
            asked = await outbox.sent_prompts(
                conn, notice.ticket_number, str(notice.payload.get("prompt"))
            )
        payload = notice.payload
        updated = 0
        for channel, ts in asked:
            try:
                await self.client.chat_update(
                    channel=channel, ts=ts, text=payload.get("text"), blocks=payload.get("blocks")
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE_MESSAGE_ERRORS:
                    raise
                continue
            updated += 1
        return {"updated": updated}

    async def _thread_of(self, notice: Notice) -> tuple[str, str]:
        if notice.ticket_number is None:
            raise NotReady("a thread reply needs a ticket")
        if notice.location is not None:
            return notice.location
        async with self.ctx.db.read() as conn:
            location = await ticket_store.message_location(conn, notice.ticket_number)
        if location is None:
            raise NotReady(f"ticket {notice.ticket_number} has no message yet")
        return location


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"slack error: {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"
