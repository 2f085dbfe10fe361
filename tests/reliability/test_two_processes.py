"""Two ``escalator serve`` processes on one database (a SQLite file, or PostgreSQL in the
suite's PostgreSQL half), both taking reports and commands and both draining the outbox: no
"database is locked" (or any error) reaches a user, numbers stay gap-free, and no notice is
sent twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.sandbox.standin import SlackStandIn
from tests.reliability.support import (
    LIMIT,
    LONG,
    Load,
    ServeProcess,
    query,
    until,
    verdict,
)

REPORTS = 400 if LONG else 40
LANES = 8 if LONG else 4  # requests in flight at once (each lane: a report and two commands)
ERROR_WORDS = ("locked", "error", "traceback", "went wrong", "exception")
# Today a `/ticket` step or a report is stored before the listener acks. When the SQLite write
# lock is held by the other process for long, the ack misses Bolt's 3 s window and Slack gets
# Bolt's 404 (the user sees "failed with the error"), although the step is then stored. When the
# handlers ack within the window whatever the database does, set this to True.
ACKS_ALWAYS_IN_TIME = True


async def test_two_processes_on_one_database(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    db = db_url
    first = ServeProcess(tmp_path, slack, db=db, name="first")
    second = ServeProcess(tmp_path, slack, db=db, name="second")
    slack.bot_events_url = first.events_url
    load = Load([first.events_url, second.events_url], slack.base_url, prefix="VTWO", total=REPORTS)
    try:
        await first.start()
        await second.start()
        await asyncio.wait_for(load.run(lanes=LANES), timeout=LIMIT * 2)
        await until(
            lambda: not query(db, "select 1 from outbox where sent_at is null"),
            what="every notice to be sent",
        )
    finally:
        first.stop()
        second.stop()
    found = verdict(db, load, slack)
    logs = first.stderr() + second.stderr()
    locked_in_log = logs.count("database is locked")
    print(f"two processes: {found.summary()}; 'database is locked' in the logs: {locked_in_log}")
    assert found.requests >= REPORTS
    assert found.refused == [], [(a.kind, a.key, a.status, a.body[:200]) for a in found.refused[:3]]
    said = [a.body for a in found.answered if any(w in a.body.lower() for w in ERROR_WORDS)]
    assert said == [], said[:3]
    assert found.lost_reports == set()
    assert len(found.numbers) == REPORTS  # every report sent is stored, once
    assert found.numbering_ok
    assert found.lost_notes == [] and found.twice_notes == []
    notices = found.notices
    assert notices.missing == {} and notices.twice == {}, notices.summary()
    assert notices.lost_ticket_messages == 0 and notices.duplicate_ticket_messages == 0
    # Per-ticket order across processes on PostgreSQL rests on the outbox claim (issue 13 is
    # rewriting it): today a claim locks its window of rows with SKIP LOCKED, so with more
    # unsent rows than one window, another process can claim a ticket's later row while the
    # first holds its earlier one. This assertion is the one that depends on that rewrite.
    assert notices.thread_order_ok
    assert locked_in_log == 0
    # both processes took reports
    served = {a.url for a in found.answered if a.kind == "report"}
    assert served == {first.events_url, second.events_url}
    if found.late_acks and not ACKS_ALWAYS_IN_TIME:
        pytest.xfail(
            f"{len(found.late_acks)} of {found.requests} requests acked after Bolt's 3 s: "
            f"Slack got 404 (e.g. {found.late_acks[0].kind} {found.late_acks[0].key!r})"
        )
    assert found.late_acks == []
