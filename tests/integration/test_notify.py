"""Wake-ups between replicas (storage/notify.py) on a real PostgreSQL server: what one
process announces after a commit reaches the others' callbacks, not its own, and the
listener comes back by itself after its connection is cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.notify import APPLICATION_NAME, Notifier, Wake, decode, encode

DUE = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


def test_payloads_say_the_kind_and_the_due_instant() -> None:
    assert decode(encode(Wake.TIMER, DUE)) == (Wake.TIMER, DUE)
    assert decode(encode(Wake.TIMER)) == (Wake.TIMER, None)
    assert decode(encode(Wake.OUTBOX)) == (Wake.OUTBOX, None)
    assert decode("something-newer:x") is None
    assert decode("timer:not a date") is None


class Heard:
    def __init__(self) -> None:
        self.timers: list[datetime | None] = []
        self.outbox = 0
        self.changed = asyncio.Event()

    def on_timer(self, due: datetime | None) -> None:
        self.timers.append(due)
        self.changed.set()

    def on_outbox(self) -> None:
        self.outbox += 1
        self.changed.set()

    async def until(self, check: object) -> None:
        async with asyncio.timeout(30):  # a bound for a loaded machine, not a timing assert
            while not check():  # type: ignore[operator]
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def pair(db_url: str) -> AsyncIterator[tuple[Notifier, Heard, Notifier, Heard]]:
    heard = Heard(), Heard()
    notifiers = [Notifier(db_url, on_timer=h.on_timer, on_outbox=h.on_outbox) for h in heard]
    tasks = [asyncio.create_task(n.run()) for n in notifiers]
    try:
        for notifier in notifiers:
            async with asyncio.timeout(30):
                await notifier.listening.wait()
        await asyncio.gather(*(h.until(lambda h=h: h.outbox) for h in heard))  # connect wake
        yield notifiers[0], heard[0], notifiers[1], heard[1]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.postgres_only
async def test_a_wake_up_reaches_the_other_process_not_its_own(
    pair: tuple[Notifier, Heard, Notifier, Heard],
) -> None:
    one, heard_one, two, heard_two = pair
    before_one = (list(heard_one.timers), heard_one.outbox)
    later = DUE.replace(hour=5)
    one.timer_armed(later)
    one.timer_armed(DUE)  # coalesced with the first: the earlier due is what is sent
    one.notice_owed()
    await heard_two.until(lambda: heard_two.outbox >= 2 and DUE in heard_two.timers)
    assert heard_two.timers[-1] == DUE and later not in heard_two.timers
    two.timer_armed(None)
    await heard_one.until(lambda: len(heard_one.timers) > len(before_one[0]))
    assert heard_one.timers[-1] is None
    assert heard_one.outbox == before_one[1]  # one's own notice_owed did not come back
    assert two.received >= 2 and one.received == 1


@pytest.mark.postgres_only
async def test_the_listener_reconnects_after_its_connection_is_cut(
    db_url: str, pair: tuple[Notifier, Heard, Notifier, Heard]
) -> None:
    one, heard_one, two, heard_two = pair
    db = Database(db_url)
    try:
        async with db.write() as conn:  # as a server restart or a dropped network would
            cut = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
        assert cut == 2
    finally:
        await db.close()
    outbox_before = heard_two.outbox
    # Back by itself, it wakes its workers (what was sent meanwhile is lost) ...
    await heard_two.until(lambda: heard_two.outbox > outbox_before and two.listening.is_set())
    await heard_one.until(lambda: one.listening.is_set())
    # ... and hears the other again.
    one.timer_armed(DUE)
    await heard_two.until(lambda: heard_two.timers and heard_two.timers[-1] == DUE)
