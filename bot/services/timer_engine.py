"""The timer engine: one asyncio task that fires reminder and escalation stages on time.

It sleeps until the earliest pending timer (``ctx.clock.sleep_until``), or until a use case
that armed an earlier one wakes it, then in one transaction: claims the tickets with due
timers, drops stale timers (the ticket's version moved on) and re-arms them from the rules,
asks the pure rules (:mod:`bot.sla.stages`) what is due, sends the latest stage per
milestone (older ones of a backlog are marked superseded), enqueues the notices in the
outbox, and arms what follows (the next repeat). Nothing is fired twice: a fired stage is
stored with its key, which the ticket cannot arm again.

While nothing is due it does not poll; it looks again after ``recheck`` at the latest, for
timers armed by another process sharing the database (on PostgreSQL a few seconds: the
replica that armed one may die before its wake-up reaches the others, bot/app.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import sleep_until_woken
from bot.config import Config
from bot.domain.notices import NoticeKind
from bot.domain.roles import Actor
from bot.domain.rotation import OnCall
from bot.domain.tickets import Ticket
from bot.domain.workflow import Change, Step, apply
from bot.services.arming import plan_for, stage_notices
from bot.services.context import Context
from bot.services.oncall import rotation_at
from bot.services.steps import settle_notices
from bot.sla.stages import (
    StageKind,
    StageOutcome,
    catch_up,
    fired_keys,
    next_stage,
    parse_key,
    shows_deadline,
    unfired,
)
from bot.slack.i18n import translator
from bot.slack.thread_text import story_line
from storage import outbox
from storage import stage_timers as timer_store
from storage import tickets as ticket_store
from storage.outbox import NewNotice
from storage.stage_timers import Arm, StoredTimer
from storage.tickets import NewEvent

log = logging.getLogger(__name__)

UNCLAIMED_RETRY = timedelta(seconds=1)
# The longest wait between failed passes (the database away): short enough that what fell
# due meanwhile goes out within seconds of its return, not half a minute later.
PASS_RETRY_MAX = 5.0


@dataclass
class EngineStats:
    fired: int = 0
    superseded: int = 0
    stale: int = 0


class TimerEngine:
    def __init__(
        self,
        ctx: Context,
        *,
        batch: int = 200,
        recheck: timedelta = timedelta(minutes=5),
        retry: timedelta | None = None,
        on_fired: Callable[[Sequence[float]], None] | None = None,
        on_error: Callable[[], None] | None = None,
        max_backoff: float = PASS_RETRY_MAX,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ctx = ctx
        self.on_error = on_error
        self.max_backoff = max_backoff
        self._pause = pause
        self.batch = batch
        self.recheck = recheck
        self.retry = recheck if retry is None else retry  # a ticket whose stage failed
        self.on_fired = on_fired
        self.stats = EngineStats()
        self.failures = 0  # passes failed in a row (/healthz says so from FAILING_PASSES)
        self._wake = asyncio.Event()
        self._until: datetime | None = None  # what the engine sleeps for, while it sleeps

    def wake(self, due: datetime | None = None) -> None:
        """A use case armed a timer due at ``due`` (None: unknown). Wake when that is earlier
        than what the engine sleeps for (or when it is not asleep: it looks again anyway)."""
        if due is None or self._until is None or due < self._until:
            self._wake.set()

    async def run(self) -> None:
        """Fire until cancelled. Any error of a pass (the database gone, a bug) is logged,
        backed off (in real time, growing to ``max_backoff``) and the loop carries on."""
        self.failures = 0
        while True:
            self._wake.clear()
            passed_at = self.ctx.clock.now()
            try:
                handled = await self.fire_due()
                if handled:
                    self.failures = 0
                    continue
                async with self.ctx.db.read() as conn:
                    due = await timer_store.next_due_at(conn)
            except Exception:
                self.failures += 1
                wait = min(self.max_backoff, 0.25 * 2 ** min(self.failures, 7))
                log.exception(
                    "timer engine pass failed (%d in a row); again in %.1f s", self.failures, wait
                )
                if self.on_error is not None:
                    self.on_error()
                await self._pause(wait)
                continue
            self.failures = 0
            now = self.ctx.clock.now()
            if due is not None and passed_at < due <= now:
                continue  # fell due during the pass: fire it now
            until = now + self.recheck if due is None else min(due, now + self.recheck)
            # A timer that was due at the pass but no pass could claim (its ticket is gone,
            # or another process holds it) is looked at again a little later, not in a spin.
            await self._sleep(until if until > now else now + UNCLAIMED_RETRY)

    async def _sleep(self, until: datetime) -> None:
        self._until = until
        try:
            await sleep_until_woken(self.ctx.clock, self._wake, until)
        finally:
            self._until = None

    async def fire_due(self) -> int:
        """Handle every ticket with a due timer (up to ``batch``); return how many.

        The rules run per ticket in memory; the pass then writes with a few statements for
        the whole batch (timers replaced, notices stored), in one transaction."""
        now = self.ctx.clock.now()
        sent: list[datetime] = []
        async with self.ctx.db.write(background=True) as conn:
            numbers = await timer_store.claim_due_tickets(conn, now=now, limit=self.batch)
            if not numbers:
                return 0
            tickets, stored = await timer_store.claimed_with_timers(conn, numbers)
            oncall = (await rotation_at(conn, self.ctx.config, now)).at(now)
            rearms: list[timer_store.Rearm] = []
            notices: list[NewNotice] = []
            failed: list[int] = []
            closes: list[Change] = []
            for number in numbers:
                ticket = tickets.get(number)
                if ticket is None:
                    continue
                try:
                    arms, due, fired_notices = self._fire_ticket(
                        ticket, stored[number], now, oncall
                    )
                    close = _autoclose(
                        ticket,
                        due_keys=[a.key for a in arms if a.outcome is StageOutcome.SENT],
                        now=now,
                    )
                except Exception:  # one bad ticket must not hold up every other timer
                    log.exception("timer stages failed", extra={"ticket": number})
                    failed.append(number)
                    continue
                version = ticket.version
                if close is not None:
                    closes.append(close)
                    version = close.ticket.version
                    arms = [a for a in arms if a.outcome is not None]  # closed: nothing more
                    notices += _close_notices(self.ctx.config, close)
                rearms.append(timer_store.Rearm(number, version, arms))
                notices += fired_notices
                sent += due
            await ticket_store.save_tickets(
                conn, [c.ticket for c in closes], now=now, loaded=tickets
            )
            await ticket_store.append_events(
                conn,
                [NewEvent(c.ticket.number, "", c.kind, c.before, c.after) for c in closes],
                at=now,
            )
            await timer_store.rearm_many(conn, rearms, stored, now=now)
            channels = {number: ticket.post_channel for number, ticket in tickets.items()}
            await outbox.enqueue_many(conn, notices, now=now, channels=channels)
            for number in failed:
                await timer_store.mark_failed(
                    conn,
                    number,
                    version=tickets[number].version,
                    now=now,
                    retry_at=now + self.retry,
                )
        if sent:
            self.ctx.wake_delivery()
            if self.on_fired is not None:
                done = self.ctx.clock.now()
                self.on_fired([(done - due).total_seconds() for due in sent])
        return len(numbers)

    def _fire_ticket(
        self,
        ticket: Ticket,
        stored: list[StoredTimer],
        now: datetime,
        oncall: OnCall,
    ) -> tuple[list[Arm], list[datetime], list[NewNotice]]:
        """The ticket's timers after this pass, the due instants of what fires, and the
        notices it sends."""
        deadlines, stages = plan_for(self.ctx, ticket, now)
        fired = fired_keys(
            [(t.key, t.due_at) for t in stored if t.fired_at is not None], ticket.reclassified_at
        )
        pending = unfired(stages, fired)
        if any(t.fired_at is None and t.version != ticket.version for t in stored):
            # Stale: the ticket changed without re-arming. Drop and arm from the rules; what
            # is due fires on the next pass, with the current version.
            self.stats.stale += 1
            log.info("stale timers dropped and re-armed", extra={"ticket": ticket.number})
            return [Arm(s.key, s.due) for s in next_stage(pending)], [], []
        send, skip = catch_up([s for s in pending if s.due <= now])
        arms = [Arm(s.key, s.due, StageOutcome.SENT) for s in send]
        arms += [Arm(s.key, s.due, StageOutcome.SUPERSEDED) for s in skip]
        arms += [Arm(s.key, s.due) for s in next_stage(pending, after=now)]
        notices = [
            notice
            for stage in send
            for notice in stage_notices(self.ctx.config, ticket, stage, deadlines, now, oncall)
        ]
        if shows_deadline([*send, *skip]):  # a deadline passed: the card says overdue now
            notices.insert(0, NewNotice(ticket.number, NoticeKind.TICKET_MESSAGE, {}))
        self.stats.fired += len(send)
        self.stats.superseded += len(skip)
        if skip:
            log.info(
                "catch-up sent=%s superseded=%s",
                ",".join(s.key for s in send),
                ",".join(s.key for s in skip),
                extra={"ticket": ticket.number},
            )
        return arms, [s.due for s in send], notices


def _autoclose(ticket: Ticket, *, due_keys: Sequence[str], now: datetime) -> Change | None:
    """The ticket closed by itself when its sign-off wait fired (SPEC §6), else None (its
    key may carry a reclassification count: by kind, not by the key's text)."""
    if not any(parse_key(key)[1] is StageKind.AUTOCLOSE for key in due_keys):
        return None
    return apply(ticket, Step("autoclose"), actor=Actor(""), now=now, system=True)


def _close_notices(config: Config, change: Change) -> list[NewNotice]:
    number = change.ticket.number
    tr = translator(config.language, config.tz)  # the thread's: the workspace's language
    return [
        NewNotice(number, NoticeKind.TICKET_MESSAGE, {}),
        NewNotice(number, NoticeKind.THREAD, {"text": story_line(tr, change, "")}),
        *settle_notices(config, change, ""),  # the sign-off asked in vain: its messages say so
    ]
