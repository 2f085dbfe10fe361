"""A real ``escalator serve`` killed with SIGKILL while stages are pending, started again after
they fell due: each due stage is handled once, the latest per milestone is the one sent."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.standin import SlackStandIn
from tests.databases import query
from tests.e2e.test_intake import answer, open_report
from tests.harness import BOT_TOKEN, SIGNING_SECRET, free_port
from tests.reliability.support import CONFIG as SERVED_CONFIG

ROOT = Path(__file__).resolve().parents[2]
CONFIG = (
    SERVED_CONFIG
    + """
[sla.A]
respond = "6s"
diagnose = "10s"
plan = "1h"
"""
)
LIMIT = 30.0  # seconds, for anything a slow shared machine must do


class Bot:
    def __init__(self, tmp: Path, slack: SlackStandIn, db_url: str) -> None:
        self.port = free_port()
        self.db_url = db_url
        (tmp / "config.toml").write_text(CONFIG)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ESCALATOR_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": db_url,
            "ESCALATOR_CONFIG": str(tmp / "config.toml"),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        slack.bot_events_url = f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: ASYNC220 (starts it, does not wait)
            [
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http:
            await until(lambda: self._healthy(http))

    async def _healthy(self, http: aiohttp.ClientSession) -> bool:
        assert self.proc is not None and self.proc.poll() is None, "the bot exited"
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def stop(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=LIMIT)

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        return query(self.db_url, sql, *args)

    def now(self) -> datetime:
        """Now, as the database compares it with stored times (naive UTC text on SQLite)."""
        now = datetime.now(UTC)
        return now.replace(tzinfo=None) if self.db_url.startswith("sqlite") else now


async def until(check: object, limit: float = LIMIT) -> None:
    deadline = time.monotonic() + limit
    while True:
        result = check()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.05)


def utc(text: object) -> datetime:
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


async def test_killed_and_restarted_sends_each_due_stage_once(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    bot = Bot(tmp_path, slack, db_url)
    await bot.start()
    try:
        view_id = await open_report(slack, text="All lanes down")
        await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
        sent = await slack.view_submission(
            user="U0REP", view_id=view_id, values={"details": "Since 09:40"}
        )
        assert sent.status == 200
        # The primary is paged at once; kill as soon as that page is recorded as sent.
        await until(
            lambda: bot.query("select 1 from outbox where kind='page' and sent_at is not null")
        )
        bot.stop(signal.SIGKILL)
        killed_at = datetime.now(UTC)
        [(reported,)] = bot.query("select reported_at from tickets")
        # While it is down, the rest of respond (6 s) and of diagnose (10 s) falls due.
        await asyncio.sleep(max(0.0, (utc(reported) - datetime.now(UTC)).total_seconds() + 11))
        await bot.start()
        await until(lambda: slack.messages("C0MANAGERS"))
        await until(
            lambda: (
                not bot.query(
                    "select 1 from outbox where sent_at is null union all "
                    "select 1 from timers where fired_at is null and due_at <= ?",
                    bot.now(),
                )
            )
        )
    finally:
        bot.stop(signal.SIGTERM)

    fired = bot.query(
        "select key, due_at, fired_at, outcome from timers where fired_at is not null"
    )
    after = [(k, utc(d), o) for k, d, f, o in fired if utc(f) > killed_at]
    for milestone in ("respond", "diagnose"):
        stages = [(d, k, o) for k, d, o in after if k.startswith(milestone)]
        assert stages, f"nothing of {milestone} fell due while the bot was down"
        latest = max(d for d, _, _ in stages)
        assert {k for d, k, o in stages if o == "sent"} == {k for d, k, _ in stages if d == latest}
        assert all(o == "superseded" for d, _, o in stages if d != latest)
    assert "diagnose:breach" in {k for k, _, o in after if o == "sent"}
    # Nothing twice: one breach notice, one message per outbox row, no repeated stage.
    assert len(slack.messages("C0MANAGERS")) == 1
    rows = [(k, str(p)) for k, p in bot.query("select kind, payload from outbox")]
    rows = [(kind, payload) for kind, payload in rows if "stage" in payload]
    assert [r for r, n in Counter(rows).items() if n > 1] == []
    pages = [r for r in rows if r[0] == "page"]
    dms = sum(len(slack.messages(slack.dm_channel(u))) for u in ("U0ENG1", "U0ENG3", "U0MGR1"))
    assert dms == len(pages)
    assert len(slack.messages(slack.dm_channel("U0MGR1"))) == 0  # the 75 % page was superseded
