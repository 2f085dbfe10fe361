"""Three ``escalator serve`` replicas on one PostgreSQL database, as behind a load balancer:
reports and commands spread over them, one killed with SIGKILL mid-way. The timers it armed
are fired by the others within seconds of their due time (they heard of them through
LISTEN/NOTIFY, storage/notify.py), numbers stay gap-free, and every notice arrives once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Config
from bot.sandbox.standin import SlackStandIn
from tests.fakes import FakeClock
from tests.harness import running_bot
from tests.reliability.support import (
    CONFIG,
    FORM,
    LIMIT,
    Load,
    ServeProcess,
    query,
    report_body,
    signed_headers,
    ticket_number,
    until,
    verdict,
)

pytestmark = pytest.mark.postgres_only  # several replicas on one database is PostgreSQL's case

# Class A stages fall due within seconds of a report (the stand-in's clock is the real one).
SHORT_SLA = CONFIG + '\n[sla.A]\nrespond = "6s"\ndiagnose = "12s"\nplan = "1h"\n'
HORIZON = timedelta(seconds=14)  # after the kill: the killed replica's stages that fall due
LATE_AT_MOST = timedelta(seconds=5)  # SPEC §10: "fired by another within seconds"


async def test_a_killed_replicas_timers_are_fired_by_the_others_on_time(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    replicas = [
        ServeProcess(tmp_path, slack, db=db_url, name=name, short_lease=True, config_text=SHORT_SLA)
        for name in ("one", "two", "three")
    ]
    one, _, three = replicas
    slack.bot_events_url = one.events_url
    # Class B first (its stages are hours away): the replicas' engines then sleep long, and
    # only a wake-up from the third tells the others of its class A tickets' stages.
    spread = Load(
        [r.events_url for r in replicas],
        slack.base_url,
        prefix="VREP",
        total=24,
        stopped_line=False,
    )
    last = Load([three.events_url], slack.base_url, prefix="VLAST", total=6, stopped_line=True)
    try:
        await asyncio.gather(*(r.start() for r in replicas))  # they migrate together, too
        await asyncio.wait_for(spread.run(lanes=3), timeout=LIMIT)
        # The last reports (class A) go to the third replica only: it arms their timers,
        # and dies before any of them is due.
        await asyncio.wait_for(last.run(lanes=2), timeout=LIMIT)
        three.kill()
        killed_at = datetime.now(UTC)
        last_numbers = set(last.numbers)
        horizon = killed_at + HORIZON
        await asyncio.sleep((horizon - datetime.now(UTC)).total_seconds())
        await until(
            lambda: (
                not query(
                    db_url, "select 1 from timers where fired_at is null and due_at <= ?", horizon
                )
            ),
            what="the stages due by the horizon to fire",
        )
        await until(
            lambda: not query(db_url, "select 1 from outbox where sent_at is null"),
            what="every notice to be sent",
        )
    finally:
        for replica in replicas:
            replica.stop()

    fired = query(
        db_url,
        "select ticket_number, key, due_at, fired_at from timers "
        "where fired_at is not null and due_at > ? and due_at <= ?",
        killed_at + timedelta(seconds=1),  # not those the dying replica may have been firing
        horizon,
    )
    orphans = [(n, key, fired_at - due) for n, key, due, fired_at in fired if n in last_numbers]
    print(
        f"replicas: {len(fired)} stages fell due after the kill, {len(orphans)} of tickets the "
        f"killed replica took; latest {max((f - d for _, _, d, f in fired), default=None)}"
    )
    assert last_numbers and orphans, "no stage of the killed replica's tickets fell due"
    late = [(n, key, lateness) for n, key, lateness in orphans if lateness > LATE_AT_MOST]
    assert late == []
    assert all(f - d <= LATE_AT_MOST for _, _, d, f in fired)

    found = verdict(db_url, spread, slack)
    assert found.numbering_ok
    served = {a.url for a in spread.answers if a.kind == "report" and a.status == 200}
    assert served == {r.events_url for r in replicas}
    stored = {row[0] for row in query(db_url, "select intake_key from tickets")}
    assert {f"view:{a.key}" for a in last.answers if a.kind == "report"} <= stored
    notices = found.notices
    assert notices.missing == {} and notices.twice == {}, notices.summary()
    assert notices.lost_ticket_messages == 0 and notices.duplicate_ticket_messages == 0


@asynccontextmanager
async def killed_after_a_report(
    tmp_path: Path, db_url: str, slack: SlackStandIn, body: str, config_text: str = CONFIG
) -> AsyncIterator[None]:
    """Two replicas; the first killed the moment it answered the report form ``body``."""
    one, two = (
        ServeProcess(
            tmp_path, slack, db=db_url, name=name, short_lease=True, config_text=config_text
        )
        for name in ("one", "two")
    )
    slack.bot_events_url = one.events_url
    try:
        await asyncio.gather(one.start(), two.start())
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                one.events_url, data=body.encode(), headers=signed_headers(body, FORM)
            ) as response,
        ):
            assert response.status == 200
            one.kill()
        yield
    finally:
        one.stop()
        two.stop()


async def test_a_replica_killed_right_after_a_report_has_its_timers_fired_by_another(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    """Killed the moment it answered the report: the wake-up it owed the other replica
    (LISTEN/NOTIFY, sent a moment after the commit) may never leave it. The other, with
    nothing of its own armed, must still fire the report's first stage within seconds, and
    send what the killed one owed Slack, not at its next look a few minutes later."""
    body = report_body("VKILLED1", "Killed right after")
    async with killed_after_a_report(tmp_path, db_url, slack, body, SHORT_SLA):
        (due,) = query(db_url, "select min(due_at) from timers where fired_at is null")[0]
        await until(
            lambda: (
                not query(
                    db_url, "select 1 from timers where fired_at is null and due_at <= ?", due
                )
            ),
            limit=(due - datetime.now(UTC)).total_seconds() + 30,
            what="the killed replica's first stage to fire",
        )
        (fired_at,) = query(
            db_url, "select fired_at from timers where due_at = ? and fired_at is not null", due
        )[0]
        # and what it owed Slack (its lease runs out in 3 s) goes out soon after, not minutes
        await until(
            lambda: not query(db_url, "select 1 from outbox where sent_at is null"),
            limit=15,
            what="every notice to be sent",
        )
    assert fired_at - due <= LATE_AT_MOST


async def test_one_report_submitted_to_two_replicas_at_once_opens_one_ticket_and_both_see_it(
    db_url: str, config: Config, clock: FakeClock
) -> None:
    """A double click on Submit, the two clicks sent by the load balancer to two replicas:
    both wait for the ticket counter, which each holds before it looks for the form's
    ticket. The second then finds the first's ticket: it answers with that one (as on one
    replica), not with an error."""
    body = report_body("VTWICE01", "Clicked twice")
    async with (
        running_bot(db_url, config, clock) as one,
        running_bot(db_url, config, clock) as two,
    ):
        engine = create_async_engine(db_url)
        try:
            async with engine.connect() as hold:
                await hold.begin()  # the counter held, as by a third report being stored
                await hold.execute(
                    text("SELECT value FROM counters WHERE name = 'ticket' FOR UPDATE")
                )
                async with aiohttp.ClientSession() as http:
                    posts = [
                        asyncio.create_task(_post(http, url, body)) for url in (one.url, two.url)
                    ]
                    await asyncio.sleep(0.5)  # both wait for the counter
                    await hold.commit()
                    answers = await asyncio.gather(*posts)
        finally:
            await engine.dispose()
    assert [status for status, _ in answers] == [200, 200], answers
    numbers = [ticket_number(answer) for _, answer in answers]
    assert numbers == [1, 1]
    assert query(db_url, "select number from tickets") == [(1,)]
    # the second took no number: the next report is #2
    assert query(db_url, "select value from counters where name = 'ticket'") == [(1,)]


async def _post(http: aiohttp.ClientSession, url: str, body: str) -> tuple[int, str]:
    async with http.post(
        f"{url}/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    ) as response:
        return response.status, await response.text()


async def test_a_replica_killed_right_after_a_report_has_its_notices_sent_by_another(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    """The same for what the report owes Slack with no timer near (class B: the ticket
    message, the page to the on-call engineer): the other replica sends it within seconds
    (once the killed one's lease, 3 s here, has run out), not at its next look minutes later."""
    body = report_body("VKILLED2", "Class B, killed right after", yes=False)
    async with killed_after_a_report(tmp_path, db_url, slack, body):
        await until(
            lambda: not query(db_url, "select 1 from outbox where sent_at is null"),
            limit=15,
            what="the killed replica's notices to be sent by the other",
        )
    assert len(slack.messages("C0SUPPORT")) == 1  # the ticket message, once


async def test_a_replica_killed_while_slack_takes_its_posts_has_them_found_not_sent_twice(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    """Killed while Slack holds its posts open (Slack then posts them, with no one to hear):
    the other replica takes the notices when the lease runs out, finds them in Slack (the
    in-doubt lookup) and does not post them again."""
    one, two = (
        ServeProcess(tmp_path, slack, db=db_url, name=name, short_lease=True)
        for name in ("one", "two")
    )
    slack.bot_events_url = one.events_url
    try:
        await asyncio.gather(one.start(), two.start())
        slack.hang("chat.postMessage", 2.0, times=None)  # done after 2 s, heard or not
        body = report_body("VKILLED3", "Killed while Slack held it", yes=False)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                one.events_url, data=body.encode(), headers=signed_headers(body, FORM)
            ) as response,
        ):
            assert response.status == 200
        await until(
            lambda: len([c for c in slack.calls("chat.postMessage") if c.fault]) >= 2,
            what="the ticket message and the page held open",
        )
        one.kill()
        slack.clear_faults()
        await until(
            lambda: not query(db_url, "select 1 from outbox where sent_at is null"),
            limit=20,
            what="the killed replica's notices settled by the other",
        )
        await asyncio.sleep(1)
    finally:
        one.stop()
        two.stop()
    top = [m for m in slack.messages("C0SUPPORT") if m.user == slack.bot_user_id]
    assert len(top) == 1
    dms = [m.channel for m in slack.all_messages() if m.channel.startswith("D")]
    assert sorted(dms) == sorted(set(dms)), dms  # the page and the reporter's DM, once each
    assert slack.dm_channel("U0ENG1") in dms
