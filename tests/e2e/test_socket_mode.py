"""`escalator socket`, the real command, against the stand-in in Socket Mode: the bot opens a
WebSocket with its app-level token, and every request (slash command, button, form, event)
comes to it as an envelope on that socket; its acks go back on the same socket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox.standin import SlackStandIn
from tests.databases import sqlite_url
from tests.e2e.test_intake import answer, open_report
from tests.e2e.test_tickets import buttons
from tests.harness import BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS, free_port
from tests.reliability.support import CONFIG

ROOT = Path(__file__).resolve().parents[2]
APP_TOKEN = "xapp-1-A0ESCAL-1-test"
LIMIT = 60.0  # seconds: a bound for the process to come up or go, never a timing assert


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        users=USERS,
        channels=CHANNELS,
        app_token=APP_TOKEN,
    )
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


def start_socket(
    tmp_path: Path, slack: SlackStandIn, port: int, app_token: str
) -> subprocess.Popen[str]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ESCALATOR_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": app_token,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": sqlite_url(tmp_path / "socket.db"),
        "ESCALATOR_CONFIG": str(config),
    }
    argv = [sys.executable, "-m", "bot.cli", "socket", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stopped(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    return proc.returncode, stderr


async def test_socket_mode_serves_commands_buttons_forms_and_events(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    port = free_port()
    proc = start_socket(tmp_path, slack, port, APP_TOKEN)
    try:
        await slack.wait_for(lambda: slack.socket_connected or proc.poll() is not None, LIMIT)
        assert proc.poll() is None, proc.communicate()[1]
        # the token checked at start, then the handler's own URL, with the app-level token
        opened = slack.calls("apps.connections.open")
        assert [c.response["ok"] for c in opened if c.response] == [True, True]

        # a slash command: its ack comes back on the socket and Slack shows it
        helped = await slack.slash_command(
            user="U0ENG1", command="/ticket", text="help", channel="C0SUPPORT"
        )
        assert helped.status == 200 and "ack" in str(helped.json["text"])
        assert any("/ticket" in e.text for e in slack.ephemerals("U0ENG1", "C0SUPPORT"))

        # the report form: opened by the command, triage buttons, submitted (its answer, the
        # form's update, is the ack's payload on the socket)
        view_id = await open_report(slack, channel="C0RANDOM", text="Gateway down")
        await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
        sent = await slack.view_submission(
            user="U0REP",
            view_id=view_id,
            values={"summary": "Gateway down", "details": "All of it"},
        )
        assert sent.json["response_action"] == "update" and "#1" in json.dumps(sent.json["view"])
        message = await slack.wait_for(lambda: next(iter(slack.messages("C0SUPPORT")), None))
        assert "#1 Gateway down" in json.dumps(message.blocks)
        page = await slack.wait_for(lambda: slack.messages(slack.dm_channel("U0ENG1")) or None)
        assert "#1" in page[0].text

        # a button on the ticket message, then a mention in its thread (an event)
        await slack.block_action(
            user="U0ENG1", action_id="ticket_ack", channel="C0SUPPORT", message_ts=message.ts
        )
        await slack.wait_for(  # the button's step is taken: the ticket message loses it
            lambda: "ticket_ack" not in buttons(slack.message(message.channel, message.ts))
        )
        await slack.app_mention(
            user="U0ENG1", channel="C0SUPPORT", text="checked the logs", thread_ts=message.ts
        )
        await slack.wait_for(
            lambda: next(
                (
                    m
                    for m in slack.messages("C0SUPPORT", message.ts)
                    if "checked the logs" in m.text
                ),
                None,
            )
        )

        # health and metrics on the given port; nothing is posted to the bot in Socket Mode
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200 and (await health.json())["status"] == "ok"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as metrics:
                assert "escalator_outbox_pending" in await metrics.text()
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=b"{}") as posted:
                assert posted.status == 404
    finally:
        code, stderr = stopped(proc)
    assert code == 0, stderr
    assert APP_TOKEN not in stderr and BOT_TOKEN not in stderr


async def test_an_app_token_slack_refuses_is_one_line(tmp_path: Path, slack: SlackStandIn) -> None:
    proc = start_socket(tmp_path, slack, free_port(), "xapp-1-not-this-one")
    code, stderr = await asyncio.to_thread(stopped_when_done, proc)
    assert code == 2, stderr
    assert stderr.strip().splitlines()[-1] == (
        "escalator: SLACK_APP_TOKEN: Slack refused it (invalid_auth)"
    )
    assert "Traceback" not in stderr and not slack.socket_connected


def stopped_when_done(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, stderr = proc.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        return stopped(proc)
    return proc.returncode, stderr
