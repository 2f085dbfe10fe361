"""Shared pieces of the reliability tests: bounded waits, signed request bodies, real ``serve``
processes, and the ledger that compares what the outbox owed Slack with what Slack got."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp

from bot.handlers import background
from bot.sandbox.standin import SlackStandIn, StoredMessage, app_requests
from storage.outbox.notices import URGENT
from tests import databases
from tests.databases import sqlite_url
from tests.harness import BOT_TOKEN, SIGNING_SECRET, USERS, free_port

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]

# `make reliability` sets ESCALATOR_LONG=1: more load, more kills, longer outages.
LONG = os.environ.get("ESCALATOR_LONG", "") not in ("", "0")
LIMIT = 240.0 if LONG else 90.0  # seconds: an upper bound for anything, never a timing assert

CONFIG = """
timezone = "Asia/Shanghai"
[channels]
support = "C0SUPPORT"
managers = "C0MANAGERS"
[roles]
engineers = ["U0ENG1", "U0ENG2", "U0ENG3"]
managers = ["U0MGR1"]
[oncall]
primary = ["U0ENG1"]
secondary = ["U0ENG3"]
shift = "1w"
handoff = "2026-01-05T09:00"
"""


async def until(
    check: Callable[[], T | Awaitable[T | None] | None], limit: float = LIMIT, what: str = ""
) -> T:
    """Poll ``check`` until it is truthy (bounded by ``limit`` seconds); return its value."""
    deadline = time.monotonic() + limit
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {limit:.0f} s: {what or check}")
        await asyncio.sleep(0.05)


async def bolt_idle(limit: float = LIMIT) -> None:
    """Wait until Bolt has no listener still running in the background (events, actions),
    and no work a listener handed on after its answer."""

    def idle() -> bool:
        if background.busy():
            return False
        for task in asyncio.all_tasks():
            coro = task.get_coro()
            name = getattr(coro, "__qualname__", "")
            if not task.done() and "run_ack_function_asynchronously" in name:
                return False
        return True

    await until(idle, limit, "Bolt's background listeners to finish")


# ---- signed requests made by hand (straight to a bot, no modal needed) ------------------------


def signed_headers(body: str, content_type: str, secret: str = SIGNING_SECRET) -> dict[str, str]:
    return app_requests.signed_headers(secret, body, content_type=content_type)


def report_body(
    view_id: str,
    summary: str,
    *,
    details: str = "It stopped",
    system: str | None = None,
    yes: bool = True,
    channel: str = "C0RANDOM",
    team_domain: str = "escalator-sandbox",
) -> str:
    """A finished report form: class A when ``yes``, else B (no, then yes)."""
    radio = "radio_buttons"
    values: dict[str, Any] = {
        "summary": {"value": {"type": "plain_text_input", "value": summary}},
        "details": {"value": {"type": "plain_text_input", "value": details}},
        "system": {"value": {"type": "plain_text_input", "value": system}},
        "triage_stopped": {
            "triage_answer": {"type": radio, "selected_option": {"value": "yes" if yes else "no"}}
        },
    }
    if not yes:
        values["triage_affected"] = {
            "triage_answer": {"type": radio, "selected_option": {"value": "yes"}}
        }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0ESCAL", "domain": team_domain},
        "user": {"id": "U0REP", "name": "rita", "team_id": "T0ESCAL"},
        "api_app_id": "A0ESCAL",
        "token": "legacy-verification-token",
        "trigger_id": f"1.{uuid.uuid4().hex}",
        "view": {
            "id": view_id,
            "team_id": "T0ESCAL",
            "type": "modal",
            "callback_id": "report",
            "private_metadata": json.dumps({"channel": channel}),
            "hash": uuid.uuid4().hex[:8],
            "state": {"values": values},
            "blocks": [],
        },
        "response_urls": [],
    }
    return app_requests.interaction_body(payload)


def command_body(command: str, text: str, *, user: str, response_base: str) -> str:
    user_name = next(u.name for u in USERS if u.id == user)
    form = app_requests.slash_command_form(
        token="legacy-verification-token",
        team_id="T0ESCAL",
        team_domain="escalator-sandbox",
        channel_id="C0SUPPORT",
        channel_name="support",
        user_id=user,
        user_name=user_name,
        command=command,
        text=text,
        api_app_id="A0ESCAL",
        response_url=f"{response_base}response/unused",
        trigger_id=f"1.{uuid.uuid4().hex}",
    )
    return urlencode(form)


@dataclass
class Answer:
    kind: str
    key: str  # the view id of a report, the text of a command
    status: int | None  # None: no answer (connection refused or cut)
    body: str = ""
    url: str = ""


async def post(
    http: aiohttp.ClientSession, url: str, body: str, content_type: str, kind: str, key: str
) -> Answer:
    try:
        async with http.post(
            url, data=body.encode(), headers=signed_headers(body, content_type)
        ) as response:
            return Answer(kind, key, response.status, await response.text(), url)
    except (TimeoutError, aiohttp.ClientError, OSError):
        return Answer(kind, key, None, "", url)


FORM = app_requests.FORM


class Load:
    """Reports and `/ticket` commands, a few at a time, until stopped or ``total`` reports were
    sent; spread over ``urls`` in turn; every answer is kept."""

    def __init__(
        self,
        urls: list[str],
        response_base: str,
        *,
        prefix: str,
        total: int | None = None,
        stopped_line: bool | None = None,
    ) -> None:
        """``stopped_line``: every report says the line stopped (class A) or not (B); None
        mixes them (two in three A)."""
        self.stopped_line = stopped_line
        self.urls = urls
        self.response_base = response_base
        self.prefix = prefix
        self.total = total
        self.answers: list[Answer] = []
        self.stopped = asyncio.Event()
        self.numbers: list[int] = []
        self.sent = 0

    async def run(self, lanes: int = 1) -> None:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await asyncio.gather(*(self._lane(http) for _ in range(lanes)))

    async def _lane(self, http: aiohttp.ClientSession) -> None:
        while not self.stopped.is_set() and (self.total is None or self.sent < self.total):
            self.sent += 1
            n = self.sent
            url = self.urls[n % len(self.urls)]
            view_id = f"{self.prefix}{n:06d}"
            yes = n % 3 != 0 if self.stopped_line is None else self.stopped_line
            body = report_body(view_id, f"Load report {n}", yes=yes)
            sends = [post(http, url, body, FORM, "report", view_id)]
            for k, number in enumerate(self.numbers[-2:]):
                verb = "ack" if k == 0 and n % 4 == 0 else "note"
                text = f"{verb} {number}" + (f" load note {n}.{k}" if verb == "note" else "")
                command = command_body(
                    "/ticket", text, user="U0ENG1", response_base=self.response_base
                )
                sends.append(post(http, url, command, FORM, verb, text))
            results = await asyncio.gather(*sends)
            self.answers.extend(results)
            for result in results:
                if result.kind == "report" and result.status == 200:
                    number = ticket_number(result.body)
                    if number is not None:  # else: answered "being saved", number by DM
                        self.numbers.append(number)
            if any(r.status is None for r in results):
                await asyncio.sleep(0.05)  # the bot is down: Slack would wait too


def ticket_number(body: str) -> int | None:
    """The ticket number in the report form's confirmation (the ack of a submission), or
    None when the bot answered that the report is still being saved (a slow database)."""
    view = json.loads(body)["view"]  # in the workspace's language: the title names the ticket
    if view.get("callback_id") != "report_done":
        assert view.get("callback_id") == "report_pending", json.dumps(view)[:300]
        return None
    return int(re.findall(r"#(\d+)", view["title"]["text"])[0])


# ---- a real `escalator serve` -----------------------------------------------------------------


class ServeProcess:
    """``python -m bot.cli serve`` on the database at ``db`` (a URL: a SQLite file, or a
    PostgreSQL database that several may share), talking to the stand-in in this process.

    ``fast=True`` runs the same CLI through tests/reliability/fastserve.py, which only raises
    the per-channel posting pace, and with ``short_lease`` shortens the outbox lease."""

    def __init__(
        self,
        tmp: Path,
        slack: SlackStandIn,
        *,
        db: str,
        name: str = "bot",
        fast: bool = True,
        short_lease: bool = False,
        config_text: str = CONFIG,
    ) -> None:
        self.port = free_port()
        self.db = db
        self.name = name
        self.fast = fast
        config = tmp / "config.toml"
        config.write_text(config_text)
        self.stderr_path = tmp / f"{name}.stderr"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ESCALATOR_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": db,
            "ESCALATOR_CONFIG": str(config),
        }
        if short_lease:
            self.env["FASTSERVE_LEASE"] = "3"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def start(self) -> None:
        module = "tests.reliability.fastserve" if self.fast else "bot.cli"
        argv = [sys.executable, "-m", module, "serve", "--host", "127.0.0.1"]
        with self.stderr_path.open("ab") as stderr:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 (starts it, does not wait)
                [*argv, "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.starts += 1
        async with aiohttp.ClientSession() as http:
            await until(lambda: self._healthy(http), what=f"{self.name} to answer /healthz")

    async def _healthy(self, http: aiohttp.ClientSession) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.stderr()[-3000:]}")
        try:
            async with http.get(f"{self.url}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end: always safe in a finally block."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""


def query(db: str | Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Rows of one query (``?`` placeholders) on a database URL, or on a SQLite file's path."""
    return databases.query(sqlite_url(db) if isinstance(db, Path) else db, sql, *args)


# ---- the ledger: owed (outbox) against got (stand-in) -----------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    id: int
    ticket: int | None
    kind: str
    payload: dict[str, Any]
    sent: bool
    urgent: bool = False  # its priority: before the routine notices of its conversation


def outbox_items(rows: Iterable[tuple[Any, ...]]) -> list[OutboxItem]:
    """Rows of ``select id, ticket_number, kind, payload, sent_at, priority from outbox order
    by id``."""
    out = []
    for row_id, ticket, kind, payload, sent_at, priority in rows:
        data = json.loads(payload) if isinstance(payload, str) else dict(payload)
        urgent = priority == URGENT
        out.append(OutboxItem(int(row_id), ticket, kind, data, sent_at is not None, urgent))
    return out


@dataclass
class Ledger:
    """What was owed and what arrived, by destination and text; 0 missing and 0 twice is the aim."""

    owed: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    got: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    ticket_messages: dict[int, int] = field(default_factory=dict)  # number -> top-level posts
    thread_order_ok: bool = True

    @property
    def missing(self) -> Counter[tuple[str, str, str]]:
        return self.owed - self.got

    @property
    def twice(self) -> Counter[tuple[str, str, str]]:
        return self.got - self.owed

    @property
    def duplicate_ticket_messages(self) -> int:
        return sum(n - 1 for n in self.ticket_messages.values() if n > 1)

    @property
    def lost_ticket_messages(self) -> int:
        return sum(1 for n in self.ticket_messages.values() if n == 0)

    def summary(self) -> str:
        return (
            f"owed {sum(self.owed.values())}, got {sum(self.got.values())}, "
            f"missing {sum(self.missing.values())}, twice {sum(self.twice.values())}, "
            f"ticket messages lost {self.lost_ticket_messages}, "
            f"posted twice {self.duplicate_ticket_messages}"
        )


def ledger(
    slack: SlackStandIn,
    items: list[OutboxItem],
    tickets: Mapping[int, tuple[str, str | None]],
) -> Ledger:
    """Compare every outbox row with the bot's messages at the stand-in.

    ``tickets`` maps each ticket number to its post channel and message ts (from the database).
    Ticket messages are counted per ticket (one top-level post each; updates don't count);
    every other notice is matched by destination and text, and thread replies by order too.
    """
    dm_user = {slack.dm_channel(u.id): u.id for u in USERS}
    thread_ticket = {(ch, ts): n for n, (ch, ts) in tickets.items() if ts is not None}
    result = Ledger()
    for item in items:
        text = str(item.payload.get("text", ""))
        if item.kind == "ticket_message":
            continue
        if item.kind == "thread":
            result.owed[("thread", str(item.ticket), text)] += 1
        elif item.kind == "page":  # pages due together go as one message: counted by id
            result.owed[("page", str(item.payload["user"]), str(item.id))] += 1
        elif item.kind == "dm":  # in its reader's language: counted by id, as pages are
            result.owed[("dm", str(item.payload["user"]), str(item.id))] += 1
        elif item.kind == "ephemeral":
            result.owed[("ephemeral", str(item.payload.get("user")), text)] += 1
        else:
            result.owed[("channel", str(item.payload.get("channel")), text)] += 1
    page_ids = {item.id for item in items if item.kind == "page"}
    dm_ids = {item.id for item in items if item.kind == "dm"}
    result.ticket_messages = dict.fromkeys(tickets, 0)
    bot_messages = [m for m in slack.all_messages() if m.user == slack.bot_user_id]
    for msg in bot_messages:
        if msg.is_reply:
            number = thread_ticket.get((msg.channel, msg.thread_ts or ""))
            result.got[("thread", str(number), msg.text)] += 1
        elif msg.channel in dm_user:
            ids = delivered(msg)
            for notice in sorted(ids & page_ids):
                result.got[("page", dm_user[msg.channel], str(notice))] += 1
            for notice in sorted(ids & dm_ids):
                result.got[("dm", dm_user[msg.channel], str(notice))] += 1
            if not ids & (page_ids | dm_ids):  # a message no notice owed: an extra
                result.got[("dm", dm_user[msg.channel], msg.text)] += 1
        elif (number := _ticket_of(msg)) is not None and number in tickets:
            result.ticket_messages[number] += 1
        else:
            result.got[("channel", msg.channel, msg.text)] += 1
    for user in {u.id for u in USERS}:
        for eph in slack.ephemerals(user):
            if eph.source == "chat.postEphemeral":
                result.got[("ephemeral", user, eph.text)] += 1
    result.thread_order_ok = _threads_in_order(slack, items, tickets)
    return result


def delivered(msg: StoredMessage) -> set[int]:
    """The outbox ids a message says (in its metadata) it delivers."""
    payload = (msg.metadata or {}).get("event_payload") or {}
    ids = {payload.get("notice"), *(payload.get("notices") or [])}
    return {i for i in ids if isinstance(i, int)}


def _ticket_of(msg: StoredMessage) -> int | None:
    head = msg.text.split(" ", 1)[0]
    if msg.text.startswith("#") and " [" in msg.text and head[1:].isdigit():
        return int(head[1:])
    return None


def _threads_in_order(
    slack: SlackStandIn, items: list[OutboxItem], tickets: Mapping[int, tuple[str, str | None]]
) -> bool:
    """Each ticket's thread holds its thread notices in the order the outbox owed them."""
    for number, (channel, ts) in tickets.items():
        owed_thread = [
            str(i.payload.get("text", ""))
            for i in items
            if i.ticket == number and i.kind == "thread"
        ]
        if ts is None:
            if owed_thread:
                return False
            continue
        got = [m.text for m in slack.messages(channel, ts) if m.ts != ts]
        urgent = {str(i.payload.get("text", "")) for i in items if i.ticket == number and i.urgent}
        # an escalation line may go before routine ones (SPEC §5); each kind keeps its order
        if sorted(got) != sorted(owed_thread) or any(
            [t for t in got if (t in urgent) is kind]
            != [t for t in owed_thread if (t in urgent) is kind]
            for kind in (True, False)
        ):
            return False
    return True


def secrets_in(text: str) -> list[str]:
    """Which of the bot token and signing secret appear in ``text`` (in full or in part)."""
    found = []
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        if secret in text or secret[6:] in text:
            found.append(secret)
    return found


@dataclass
class Verdict:
    """What a load against a real ``serve`` left behind, counted from its database."""

    requests: int
    answered: list[Answer]
    refused: list[Answer]  # any answer but 200, or Bolt's 404 for an ack later than 3 s
    late_acks: list[Answer]  # Bolt's 404 "unhandled request": the listener did not ack in 3 s
    reports_ok: set[str]
    lost_reports: set[str]
    numbers: list[int]
    notes_ok: list[str]
    lost_notes: list[str]
    twice_notes: list[str]
    notices: Ledger

    @property
    def numbering_ok(self) -> bool:
        return self.numbers == list(range(1, len(self.numbers) + 1))

    def summary(self) -> str:
        return (
            f"{self.requests} requests, {len(self.answered)} answered 200 "
            f"({len(self.reports_ok)} reports, {len(self.notes_ok)} notes), "
            f"{len(self.late_acks)} acked too late (Bolt's 404), {len(self.refused)} other "
            f"refusals, {len(self.numbers)} tickets "
            f"(numbers 1..N without gaps: {self.numbering_ok}); lost reports "
            f"{len(self.lost_reports)}, lost notes {len(self.lost_notes)}, notes twice "
            f"{len(self.twice_notes)}; notices {self.notices.summary()}"
        )


def verdict(db: str, load: Load, slack: SlackStandIn) -> Verdict:
    answered = [a for a in load.answers if a.status == 200]
    late_acks = [a for a in load.answers if a.status == 404 and "unhandled request" in a.body]
    refused = [a for a in load.answers if a.status not in (200, None) and a not in late_acks]
    reports_ok = {a.key for a in answered if a.kind == "report"}
    stored = {row[0] for row in query(db, "select intake_key from tickets")}
    notes_ok = [a.key.split(" ", 2)[2] for a in answered if a.kind == "note"]
    note_rows = Counter(
        json.loads(after).get("text")
        for (after,) in query(db, "select after from ticket_events where kind = 'note'")
    )
    items = outbox_items(
        query(
            db, "select id, ticket_number, kind, payload, sent_at, priority from outbox order by id"
        )
    )
    tickets = {
        n: (channel, ts)
        for n, channel, ts in query(db, "select number, post_channel, message_ts from tickets")
    }
    return Verdict(
        requests=len(load.answers),
        answered=answered,
        refused=refused,
        late_acks=late_acks,
        reports_ok=reports_ok,
        lost_reports={k for k in reports_ok if f"view:{k}" not in stored},
        numbers=[row[0] for row in query(db, "select number from tickets order by number")],
        notes_ok=notes_ok,
        lost_notes=[t for t in notes_ok if note_rows[t] == 0],
        twice_notes=[str(t) for t, n in note_rows.items() if n > 1],
        notices=ledger(slack, items, tickets),
    )
