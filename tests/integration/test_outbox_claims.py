"""The outbox's claim: only the head of each conversation, in (priority, id) order, leased
with a token the write-back checks, and never starved by stuck rows. On SQLite always; on
PostgreSQL too when ESCALATOR_TEST_DATABASE names a server (its public schema is reset)."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bot.domain.notices import NoticeKind
from storage import outbox
from storage import tickets as ticket_store
from storage.db import Database
from storage.migrate import migrate
from storage.outbox import NewNotice
from tests.conftest import START
from tests.factories import NEW_TICKET

LEASE = timedelta(seconds=40)
PG_URL = os.environ.get("ESCALATOR_TEST_DATABASE", "")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[Database]:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("ESCALATOR_TEST_DATABASE names no PostgreSQL server")
        db = Database(PG_URL)
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    else:
        db = Database(db_url)
    await migrate(db)
    yield db
    await db.close()


def post(channel: str, n: int) -> NewNotice:
    return NewNotice(None, NoticeKind.CHANNEL, {"channel": channel, "text": f"{channel} {n}"})


def page(user: str, n: int) -> NewNotice:
    return NewNotice(None, NoticeKind.PAGE, {"user": user, "text": f"page {n}"})


async def enqueue(db: Database, notices: list[NewNotice]) -> None:
    async with db.write() as conn:
        await outbox.enqueue_many(conn, notices, now=START)


async def claim(
    db: Database, owner: str = "a", at: timedelta = timedelta()
) -> list[outbox.Claimed]:
    async with db.write() as conn:
        return await outbox.claim_heads(conn, now=START + at, owner=owner, lease=LEASE)


async def test_only_the_head_of_each_conversation_is_claimed_pages_first(
    database: Database,
) -> None:
    await enqueue(database, [post("C1", 1), post("C1", 2), post("C2", 1)])
    await enqueue(database, [page("U1", 1), NewNotice(None, NoticeKind.DM, {"user": "U1"})])
    await enqueue(database, [page("U1", 2), page("U2", 1)])
    claimed = await claim(database)
    heads = [(c.conversation, c.head.payload.get("text")) for c in claimed]
    assert heads == [("user:U1", "page 1"), ("user:U2", "page 1"), ("C1", "C1 1"), ("C2", "C2 1")]
    # The pages due to U1 together go as one claim (one message); the DM waits behind them.
    assert [n.payload["text"] for n in claimed[0].notices] == ["page 1", "page 2"]
    assert await claim(database, owner="b") == []  # nothing behind a held head is free


async def test_the_write_back_checks_the_lease_and_a_restart_takes_its_own_back(
    database: Database,
) -> None:
    await enqueue(database, [post("C1", 1), post("C2", 1)])
    first = await claim(database, owner="host:3000")
    assert not any(n.in_doubt for c in first for n in c.notices)
    # The process stops; started again under the same name, it takes its rows back at once.
    async with database.write() as conn:
        assert await outbox.take_over(conn, owner="host:3000", now=START) == 2
    again = await claim(database, owner="host:3000")
    assert len(again) == 2 and all(c.head.in_doubt for c in again)  # looked up before posting
    async with database.write() as conn:  # the old claim's outcome comes too late
        assert not await outbox.mark_sent(conn, first[0].ids, first[0].token, now=START, result={})
        assert await outbox.mark_sent(conn, again[0].ids, again[0].token, now=START, result={})
        assert await outbox.take_over(conn, owner="other:3000", now=START) == 0


async def test_a_claim_is_not_starved_by_stuck_rows(database: Database) -> None:
    await enqueue(database, [post(f"C{n}", 1) for n in range(600)])
    stuck = await claim(database, owner="a")
    while len(stuck) < 600:  # every head held by a process that hangs
        more = await claim(database, owner="a")
        assert more
        stuck += more
    await enqueue(database, [post("CNEW", 1)])
    fresh = await claim(database, owner="b")
    assert [c.conversation for c in fresh] == ["CNEW"]


async def test_two_workers_on_one_database_keep_each_conversations_order(
    database: Database, db_url: str
) -> None:
    conversations = [f"C{n}" for n in range(6)]
    rng = random.Random(7)
    notices = [post(rng.choice(conversations), n) for n in range(120)]
    await enqueue(database, notices)
    url = PG_URL if database.url == PG_URL else db_url
    other = Database(url)
    order: dict[str, list[int]] = {c: [] for c in conversations}

    async def worker(db: Database, owner: str) -> None:
        for _ in range(400):
            async with db.write() as conn:
                claimed = await outbox.claim_heads(conn, now=START, owner=owner, lease=LEASE)
            if not claimed:
                async with db.read() as conn:
                    if (await outbox.stats(conn)).pending == 0:
                        return
                await asyncio.sleep(0.001)
                continue
            for c in claimed:
                order[c.conversation].append(c.head.id)
                await asyncio.sleep(0)  # the other worker claims meanwhile
            async with db.write() as conn:
                for c in claimed:
                    assert await outbox.mark_sent(conn, c.ids, c.token, now=START, result={})

    try:
        await asyncio.gather(worker(database, "a"), worker(other, "b"))
    finally:
        await other.close()
    assert sum(len(ids) for ids in order.values()) == 120  # each once
    for ids in order.values():
        assert ids == sorted(ids)


def test_the_claim_is_valid_postgresql_with_skip_locked() -> None:
    sql = str(
        outbox.claim_query(START, limit=10, skip=["C1"]).compile(dialect=postgresql.dialect())
    )
    assert "NOT (EXISTS (SELECT" in sql
    assert sql.rstrip().endswith("FOR UPDATE OF outbox SKIP LOCKED")


async def test_a_ticket_messages_refreshes_due_together_go_in_one_claim(
    database: Database,
) -> None:
    """The card is drawn as the ticket is when sent: the refreshes of one ticket due with the
    head go in its claim (one update), not a thread line between them or another ticket's."""
    async with database.write() as conn:
        numbers = await ticket_store.take_numbers(conn, 2)
        rows = [(replace(NEW_TICKET, post_channel="C0SUPPORT"), n, None) for n in numbers]
        await ticket_store.insert_many(conn, rows, now=START)
    one, two = numbers

    def card(number: int) -> NewNotice:
        return NewNotice(number, NoticeKind.TICKET_MESSAGE, {})

    line = NewNotice(one, NoticeKind.THREAD, {"text": "note"})
    await enqueue(database, [card(one), line, card(one), card(two), card(one)])
    [first] = await claim(database)
    assert [(n.kind, n.ticket_number) for n in first.notices] == [
        (NoticeKind.TICKET_MESSAGE, one)
    ] * 3
    async with database.write() as conn:
        assert await outbox.mark_sent(conn, first.ids, first.token, now=START, result={})
    [then] = await claim(database)
    assert [(n.kind, n.ticket_number) for n in then.notices] == [(NoticeKind.THREAD, one)]
    async with database.write() as conn:
        assert await outbox.mark_sent(conn, then.ids, then.token, now=START, result={})
    [last] = await claim(database)
    assert [(n.kind, n.ticket_number) for n in last.notices] == [(NoticeKind.TICKET_MESSAGE, two)]


async def test_an_escalation_line_goes_before_routine_lines_once_its_ticket_is_posted(
    database: Database,
) -> None:
    """A breach notice in a ticket's thread (or the managers channel) goes before the routine
    reminders owed the same channel; a thread line still never before its ticket message."""
    async with database.write() as conn:
        numbers = await ticket_store.take_numbers(conn, 2)
        rows = [(replace(NEW_TICKET, post_channel="C0SUPPORT"), n, None) for n in numbers]
        await ticket_store.insert_many(conn, rows, now=START)
        await ticket_store.set_message_location(conn, numbers[0], channel="C0SUPPORT", ts="1.1")
    posted, new = numbers

    def line(number: int, text: str, urgent: bool = False) -> NewNotice:
        return NewNotice(number, NoticeKind.THREAD, {"text": text}, urgent=urgent)

    await enqueue(database, [line(posted, "reminder 1"), line(posted, "reminder 2")])
    await enqueue(database, [NewNotice(new, NoticeKind.TICKET_MESSAGE, {})])
    await enqueue(database, [line(new, "new's breach", urgent=True)])  # its card not posted yet
    await enqueue(database, [line(posted, "breach", urgent=True)])
    texts: list[str] = []
    for _ in range(5):
        [head] = await claim(database)
        texts += [str(n.payload.get("text", "card")) for n in head.notices]
        async with database.write() as conn:
            assert await outbox.mark_sent(conn, head.ids, head.token, now=START, result={})
    assert texts == ["breach", "reminder 1", "reminder 2", "card", "new's breach"]
