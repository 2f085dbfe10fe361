"""The outbox worker: sends what use cases owe Slack, after their commit, in order per
conversation (:mod:`storage.outbox`).

Each claimed conversation head is sent by its own task, which writes its outcome back on
its own: a post Slack holds open holds only its conversation, never a page to someone
else. slack_sdk's retry handlers cover a single call (429 with Retry-After, 5xx, connection
errors); a notice that still fails is retried with backoff and set aside after
``max_attempts``. A notice Slack refuses for good is set aside at once, counted in
/metrics, and told once in the managers channel. Nothing that goes wrong in one pass (the
database gone, Slack gone, a bug) stops the worker: it logs, backs off and carries on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import sleep_until_woken
from bot.domain.notices import NoticeKind
from bot.metrics import Metrics
from bot.services.context import Context
from bot.services.delivery.pacer import ChannelPacer, Pacing
from bot.services.delivery.sending import SLACK_ERRORS, Sender, Sent, Undeliverable
from bot.services.readers import Readers
from bot.slack import paging as blocks_pages
from bot.slack.i18n import channel_link, mention
from storage import outbox
from storage import tickets as ticket_store
from storage.outbox import Claimed, NewNotice

log = logging.getLogger(__name__)
STOP_SENDS_WAIT = 5.0  # seconds a stopping worker waits for its cancelled sends

# Slack's answers that no retry can change: the notice is set aside.
PERMANENT_ERRORS = frozenset(
    {
        "msg_too_long",
        "invalid_blocks",
        "invalid_attachments",
        "no_text",
        "channel_not_found",
        "user_not_found",
        "is_archived",
        "not_in_channel",
        "invalid_arguments",
        "too_many_attachments",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_metadata_format",
    }
)
IDLE_WAIT = timedelta(minutes=5)
# The longest wait between failed passes (the database away): short enough that what is
# owed goes out within seconds of its return, not half a minute later.
PASS_RETRY_MAX = 5.0


def default_owner() -> str:
    """This process's name on its leases: a process started again on the same host (and
    port, for ``serve``) takes its own leases back at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class DeliverySettings:
    """The worker's knobs (``build()`` takes them; tests pass their own)."""

    pacing: Pacing = field(default_factory=Pacing)
    call_timeout: float = 30.0  # seconds one Web API call may take (slack_sdk's default)
    # About as long as a send can take (the call's 30 s timeout, plus a pacing wait); the
    # write-back checks the lease is still held, and a restarted process takes its own back.
    lease: timedelta = timedelta(seconds=40)
    max_attempts: int = 8  # unknown errors: retried with backoff, then set aside
    max_backoff: timedelta = timedelta(minutes=5)
    in_flight: int = 64  # conversations being sent at once
    # How long the worker sleeps, at most, with nothing due: it then claims again, for rows
    # written by another process whose wake-up did not reach it (bot/app.py: shorter on
    # PostgreSQL, where that process may be a replica that died before waking the others).
    idle_wait: timedelta = IDLE_WAIT
    owner: str = field(default_factory=default_owner)


@dataclass(frozen=True)
class Outcome:
    sent: Sent | None = None
    error: str | None = None
    permanent: bool = False


class Delivery:
    def __init__(
        self,
        ctx: Context,
        client: AsyncWebClient,
        metrics: Metrics,
        settings: DeliverySettings | None = None,
        *,
        readers: Readers | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.settings = settings or DeliverySettings()
        pacing = self.settings.pacing
        self.pacer = ChannelPacer(rate=pacing.rate, burst=pacing.burst)
        # each reader's language for their DMs and pages (shared with the handlers: one
        # users.info a day per person)
        self.sender = Sender(ctx, client, readers or Readers(ctx))
        self._pause = pause
        self._wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}  # conversation -> its send
        self._told: set[tuple[str, str]] = set()  # (conversation, error) told to managers
        self._taken_over = False
        self.failures = 0  # passes failed in a row (/healthz says so)
        # _left: what the last claim skipped, if it took all it could; _look: claim next turn
        self._left: frozenset[str] | None = None
        self._look = True
        self._owed: set[str] = set()  # conversations given new rows since
        self._until: datetime | None = None  # when it planned to look again
        self._due: tuple[datetime | None] | None = None  # the outbox's next due, as read

    def wake(self, conversations: Collection[str] | None = None) -> None:
        """Notices are owed in ``conversations`` (None: anywhere, or unknown): look again."""
        if conversations is None:
            self._look = True
        else:
            self._owed.update(conversations)
        self._wake.set()

    @property
    def busy(self) -> bool:
        """Sends (and the page updates after them) still in flight."""
        return bool(self._in_flight)

    async def run(self) -> None:
        """Send until cancelled; sleep until a row may be due, a send ends, or a wake."""
        try:
            while True:
                self._wake.clear()
                try:
                    if self._must_claim():
                        claimed = await self._claim()
                        if claimed:
                            self.failures = 0
                            continue
                    until = self._until = await self._next_wake()
                except Exception:
                    self._look = True
                    await self._back_off()
                    continue
                self.failures = 0
                await sleep_until_woken(self.ctx.clock, self._wake, until)
        finally:
            # The sends in flight end before the worker does: a stop closes the database
            # next, and a send cut off later would wait on a closed connection for ever.
            flying = list(self._in_flight.values())
            for task in flying:
                task.cancel()
            if flying:
                await asyncio.wait(flying, timeout=STOP_SENDS_WAIT)

    async def _back_off(self) -> None:
        self.failures += 1
        self.metrics.worker_errors.labels(worker="delivery").inc()
        wait = min(PASS_RETRY_MAX, 0.25 * 2 ** min(self.failures, 7))
        log.exception("delivery pass failed (%d in a row); again in %.1f s", self.failures, wait)
        await self._pause(wait)

    def _must_claim(self) -> bool:
        """Whether a claim may find a row the last one could not: not when every
        conversation given new rows since, and every one that claim skipped, is still
        skipped (sending, or waiting for Slack's posting rate) and its planned time to look
        again has not come. A wake then costs no write transaction."""
        until, left = self._until, self._left
        if self._look or left is None or until is None or self.ctx.clock.now() >= until:
            return True
        skip = self._skip()
        return not (left <= skip and self._owed <= skip)

    def _skip(self) -> set[str]:
        return {*self._in_flight, *self.pacer.busy(self.settings.pacing.max_wait)}

    async def _next_wake(self) -> datetime:
        now = self.ctx.clock.now()
        if self._due is None or (self._due[0] is not None and self._due[0] <= now):
            async with self.ctx.db.read() as conn:
                self._due = (await outbox.next_due_at(conn, after=now),)
        (due,) = self._due
        idle = now + self.settings.idle_wait
        until = min(due, idle) if due else idle
        busy = self.pacer.busy(self.settings.pacing.max_wait)
        if busy:  # rows may wait for these conversations' turns: look again then
            turn = min(self.pacer.wait_for(key) for key in busy)
            until = min(until, now + timedelta(seconds=min(turn, 1.0)))
        return until

    async def _claim(self) -> list[asyncio.Task[None]]:
        now = self.ctx.clock.now()
        settings = self.settings
        if not self._taken_over:
            async with self.ctx.db.write(background=True) as conn:
                taken = await outbox.take_over(conn, owner=settings.owner, now=now)
            self._taken_over = True
            if taken:
                log.info("took back %d notices this process held before it stopped", taken)
        room = settings.in_flight - len(self._in_flight)
        if room <= 0:
            self._left = None  # a send's end makes room
            return []
        skip = self._skip()
        self._owed.clear()
        self._look = False
        self._until = self._due = None
        async with self.ctx.db.write(background=True) as conn:
            claims = await outbox.claim_heads(
                conn,
                now=now,
                owner=settings.owner,
                lease=settings.lease,
                limit=room,
                skip=skip,
                group_limit=blocks_pages.MAX_GROUP,
            )
        # Found all it could: what it skipped, and what it now sends, may have more later.
        self._left = (
            frozenset(skip | {c.conversation for c in claims}) if len(claims) < room else None
        )
        tasks = []
        for claim in claims:
            task = asyncio.create_task(self._deliver(claim), name=f"send {claim.conversation}")
            self._in_flight[claim.conversation] = task
            tasks.append(task)
        return tasks

    async def _deliver(self, claim: Claimed) -> None:
        recorded = False
        try:
            wait = self.pacer.reserve(claim.conversation)
            if wait:
                await self._pause(wait)
            outcome = await self._send(claim)
            try:
                await self._record(claim, outcome)
            except Exception:  # the lease runs out; the next claim looks in Slack first
                log.exception("outcome not written", extra={"ticket": claim.head.ticket_number})
            else:
                recorded = outcome.sent is not None  # else a retry, or a notice to managers
                try:
                    await self._refresh_pages(claim, outcome)
                except Exception:  # pages are brought up to date again at the next change
                    log.exception("pages not refreshed", extra={"ticket": claim.head.ticket_number})
        except Exception:  # said here, not lost with the task; its lease runs out, it is sent then
            log.exception("a send failed", extra={"ticket": claim.head.ticket_number})
        finally:
            self._in_flight.pop(claim.conversation, None)
            if not recorded:
                self._look = True
            self._wake.set()

    async def _refresh_pages(self, claim: Claimed, outcome: Outcome) -> None:
        """After its outcome is stored: a ticket message posted or updated brings the
        ticket's pages up to date (its link, the step taken); a page sent before some of its
        tickets' messages were posted gets their links once they are."""
        if outcome.sent is None:
            return
        head = claim.head
        if head.kind is NoticeKind.TICKET_MESSAGE and head.ticket_number is not None:
            await self.sender.refresh_pages(head.ticket_number)
        elif head.kind is NoticeKind.PAGE:
            linked = set(outcome.sent.extra.get("linked") or [])
            for number in outcome.sent.extra.get("tickets") or []:
                if number not in linked:
                    await self.sender.refresh_pages(number)
                    break  # one update brings the whole message up to date

    async def _send(self, claim: Claimed) -> Outcome:
        head = claim.head
        try:
            sent = await self.sender.send(claim)
        except Undeliverable as refused:
            return Outcome(error=str(refused), permanent=True)
        except Exception as exc:  # a bug in one notice fails that notice, not the worker
            error = _describe(exc)
            self.metrics.notices_failed.labels(kind=head.kind).inc()
            code = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            permanent = code in PERMANENT_ERRORS
            if not isinstance(exc, SLACK_ERRORS):
                log.exception("delivery bug", extra={"ticket": head.ticket_number})
            return Outcome(error=error, permanent=permanent)
        for notice in claim.notices:
            self.metrics.notices_sent.labels(kind=notice.kind).inc()
        log.info(
            "delivered kind=%s n=%d channel=%s ts=%s",
            head.kind,
            len(claim.notices),
            sent.channel,
            sent.ts,
            extra={"ticket": head.ticket_number},
        )
        return Outcome(sent=sent)

    async def _record(self, claim: Claimed, outcome: Outcome) -> None:
        now = self.ctx.clock.now()
        head, token = claim.head, claim.token
        told: NewNotice | None = None
        async with self.ctx.db.write(background=True) as conn:
            if outcome.sent is not None:
                sent = outcome.sent
                if head.kind is NoticeKind.TICKET_MESSAGE and head.ticket_number is not None:
                    await ticket_store.set_message_location(
                        conn, head.ticket_number, channel=sent.channel, ts=sent.ts
                    )
                done = [i for i in claim.ids if i in sent.ids]
                held = await outbox.mark_sent(conn, done, token, now=now, result=sent.result())
                rest = [i for i in claim.ids if i not in sent.ids]
                if rest:  # found delivered before, in part: the rest go in a later claim
                    await outbox.release(conn, rest, token)
            elif outcome.error is not None and (
                outcome.permanent or head.attempts + 1 >= self.settings.max_attempts
            ):
                held = await outbox.set_aside(conn, claim.ids, token, now=now, error=outcome.error)
                if held:
                    told = self._set_aside(claim, outcome.error)
                    if told is not None:
                        await outbox.enqueue_many(conn, [told], now=now)
            else:
                error = outcome.error or "no outcome"
                delay = min(
                    timedelta(seconds=2 ** min(head.attempts + 1, 12)), self.settings.max_backoff
                )
                held = await outbox.mark_failed(
                    conn, claim.ids, token, error=error, retry_at=now + delay
                )
                log.warning(
                    "delivery failed kind=%s attempt=%d error=%s",
                    head.kind,
                    head.attempts + 1,
                    error,
                    extra={"ticket": head.ticket_number},
                )
        if not held:
            self._look = True  # another process holds it now: look again
            self.metrics.leases_lost.inc()
            log.warning(
                "lease lost before the outcome was written kind=%s",
                head.kind,
                extra={"ticket": head.ticket_number},
            )
        if told is not None:
            self._wake.set()

    def _set_aside(self, claim: Claimed, error: str) -> NewNotice | None:
        """Count and log a notice set aside; the managers channel is told once per
        conversation and error (never about its own refusals)."""
        head = claim.head
        for notice in claim.notices:
            self.metrics.notices_set_aside.labels(kind=notice.kind).inc()
        log.error(
            "delivery set aside kind=%s conversation=%s error=%s",
            head.kind,
            claim.conversation,
            error,
            extra={"ticket": head.ticket_number},
        )
        managers = self.ctx.config.channels.managers
        key = (claim.conversation, error)
        if claim.conversation == managers or key in self._told:
            return None
        self._told.add(key)
        tr = self.ctx.tr  # the managers channel's: the workspace's language
        where = (
            mention(claim.conversation.removeprefix("user:"))
            if claim.conversation.startswith("user:")
            else channel_link(claim.conversation)
        )
        said = (
            tr(
                "Slack refused a message about %(ref)s to %(where)s (%(error)s); it is set "
                "aside and nothing else waits for it. Further refusals like it are counted "
                "in `/metrics`.",
                ref=f"#{head.ticket_number}",
                where=where,
                error=error,
            )
            if head.ticket_number is not None
            else tr(
                "Slack refused a message to %(where)s (%(error)s); it is set aside and "
                "nothing else waits for it. Further refusals like it are counted in `/metrics`.",
                where=where,
                error=error,
            )
        )
        text = f":warning: {said}"
        return NewNotice(
            head.ticket_number, NoticeKind.MANAGERS, {"channel": managers, "text": text}
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"slack error: {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"
