"""Requests that are not Slack's, or not well formed: 401 or 400, nothing changed, no secret in
the log (SPEC §8). The log is captured in the test process and from a real ``serve``."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.logs import RedactingFormatter
from bot.sandbox.standin import SlackStandIn, app_requests
from tests.e2e.test_intake import open_report
from tests.e2e.test_tickets import open_ticket
from tests.harness import BOT_TOKEN, SIGNING_SECRET, Running
from tests.reliability.support import (
    FORM,
    ServeProcess,
    bolt_idle,
    report_body,
    secrets_in,
    signed_headers,
    until,
)
from tests.reliability.test_retries import settle, snapshot

BAD_SIGNINGS = ("wrong_secret", "old_timestamp", "unsigned")
# Bodies Bolt cannot parse at all: Slack never sends these.
UNPARSEABLE = {
    "payload is not JSON": (b"payload=%7Bnot+json", FORM),
    "payload is a JSON list": (b"payload=%5B1%2C2%5D", FORM),
    "payload is a JSON string": (b"payload=%22x%22", FORM),
    "JSON body is broken": (b'{"type": "event_callback", ', "application/json"),
    "JSON body is a list": (b"[1, 2]", "application/json"),
    "form body is not UTF-8": (b"payload=\xff\xfe\x00", FORM),
}
# Bodies that parse but ask for nothing the bot knows.
MEANINGLESS = {
    "empty form": (b"", FORM),
    "form without payload or command": (b"a=b&c=d", FORM),
    "payload without a type": (b"payload=%7B%7D", FORM),
    "plain text": (b"hello", "text/plain"),
    "event envelope without an event": (b'{"type": "event_callback"}', "application/json"),
}


async def raw_post(url: str, body: bytes, content_type: str, *, sign: bool) -> tuple[int, str]:
    headers = {"Content-Type": content_type}
    if sign:  # over the bytes as sent
        headers = app_requests.signed_headers(SIGNING_SECRET, body, content_type=content_type)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_requests_not_signed_by_slack_get_401_and_change_nothing(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    view_id = await open_report(slack)
    await settle(running)
    before = await snapshot(running)
    mention: dict[str, Any] = {
        "type": "app_mention",
        "user": "U0ENG1",
        "text": f"<@{slack.bot_user_id}> note forged",
        "channel": message.channel,
        "ts": "1795316113.999999",
        "thread_ts": message.ts,
    }
    statuses = []
    for signing in BAD_SIGNINGS:
        sends = [
            slack.slash_command(
                user="U0ENG1", command="/ticket", text="note 1 forged", signing=signing
            ),
            slack.block_action(
                user="U0ENG1",
                action_id="ticket_escalate",
                channel=message.channel,
                message_ts=message.ts,
                signing=signing,
            ),
            slack.view_submission(
                user="U0REP",
                view_id=view_id,
                values={"summary": "forged", "details": "forged", "triage_stopped": "yes"},
                signing=signing,
            ),
            slack.event(mention, signing=signing),
            slack.url_verification(signing=signing),
        ]
        for send in sends:
            statuses.append((signing, (await send).status))
    await settle(running)
    assert {status for _, status in statuses} == {401}, statuses
    assert await snapshot(running) == before
    assert slack.modal("U0REP") is not None  # the forged submit did not close the form


@pytest.mark.parametrize("case", sorted(MEANINGLESS))
async def test_a_signed_request_that_asks_for_nothing_changes_nothing(
    running: Running, case: str
) -> None:
    await open_ticket(running)
    await settle(running)
    before = await snapshot(running)
    body, content_type = MEANINGLESS[case]
    status, text = await raw_post(running.url, body, content_type, sign=True)
    assert status in (400, 404), (status, text)
    assert "Traceback" not in text
    await settle(running)
    assert await snapshot(running) == before


@pytest.mark.parametrize("sign", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("case", sorted(UNPARSEABLE))
async def test_an_unparseable_body_gets_400_or_401_and_no_traceback(
    running: Running, case: str, sign: bool, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = UNPARSEABLE[case]
    with caplog.at_level(logging.INFO):
        status, _ = await raw_post(running.url, body, content_type, sign=sign)
    assert status == (400 if sign else 401)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_unknown_subcommands_get_the_help(running: Running) -> None:
    slack = running.slack
    for text in ("", "help", "frobnicate 1", "<!channel> 1", "note", "list everything"):
        sent = await slack.slash_command(user="U0ENG1", command="/ticket", text=text)
        assert sent.status == 200, text
        assert "/ticket" in sent.body, (text, sent.body)  # the right form is shown
    sent = await slack.slash_command(user="U0ENG1", command="/oncall", text="frobnicate")
    assert sent.status == 200 and "/oncall" in sent.body


async def test_an_unknown_slash_command_gets_the_help(running: Running) -> None:
    sent = await running.slack.slash_command(user="U0ENG1", command="/escalate", text="now")
    assert sent.status == 200
    assert "/ticket" in sent.body and "/report" in sent.body


async def test_no_token_or_secret_in_the_log(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    slack = running.slack
    formatter = RedactingFormatter([BOT_TOKEN, SIGNING_SECRET])
    with caplog.at_level(logging.DEBUG):
        message = await open_ticket(running)
        await slack.slash_command(user="U0ENG1", command="/ticket", text="note 1 logged")
        await slack.slash_command(user="U0ENG1", command="/ticket", text="frob")
        for signing in BAD_SIGNINGS:
            await slack.slash_command(
                user="U0ENG1", command="/ticket", text="ack 1", signing=signing
            )
        await raw_post(running.url, b"payload=%7B", FORM, sign=True)
        slack.fail("chat.postMessage", status=500, times=2)
        await slack.block_action(
            user="U0ENG1", action_id="ticket_take", channel=message.channel, message_ts=message.ts
        )
        await settle(running)
    assert len(caplog.records) > 20
    raw = [r for r in caplog.records if r.levelno >= logging.INFO]
    leaked = [r.getMessage() for r in raw if secrets_in(r.getMessage() + (r.exc_text or ""))]
    assert leaked == []
    formatted = "\n".join(formatter.format(r) for r in caplog.records)
    assert secrets_in(formatted) == []


async def test_a_real_serve_logs_no_token_or_secret(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    bot = ServeProcess(tmp_path, slack, db=db_url, fast=True)
    await bot.start()
    try:
        slack.bot_events_url = bot.events_url
        # Outlasts the SDK's own 2 retries of the ticket message.
        slack.fail("chat.postMessage", status=500, times=3, channel="C0SUPPORT")
        async with aiohttp.ClientSession() as http:
            body = report_body("VLOG0001", "Logged report")
            async with http.post(
                bot.events_url, data=body.encode(), headers=signed_headers(body, FORM)
            ) as response:
                assert response.status == 200
        for signing in BAD_SIGNINGS:
            sent = await slack.slash_command(
                user="U0ENG1", command="/ticket", text="ack 1", signing=signing
            )
            assert sent.status == 401
        await slack.slash_command(user="U0ENG1", command="/ticket", text="frob 1")
        await raw_post(bot.url, b"payload=%7B", FORM, sign=True)
        await raw_post(bot.url, b"[1]", "application/json", sign=False)
        await until(lambda: slack.messages("C0SUPPORT"), what="the ticket message")
        await until(lambda: "delivered kind=ticket_message" in bot.stderr())
        await bolt_idle()
    finally:
        bot.stop()
    log = bot.stderr()
    assert "delivery failed" in log and "ticket reported" in log  # the log was written
    assert secrets_in(log) == []


def _headers_signed_with(
    timestamp: str, body: bytes, signature: str | None = None
) -> dict[str, str]:
    """Headers whose timestamp is ``timestamp`` as written, signed over it unless a
    ``signature`` is given (Slack never sends these: a forger may)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}" if signature is None else signature,
    }


MALFORMED_SIGNINGS = {
    "timestamp not a number": ("abc", None),
    "timestamp empty": ("", None),
    "timestamp with a fraction": ("1796047014.5", None),
    "timestamp in exponent form": ("1e9", None),
    "signature not ASCII": ("now", "v0=\u00e9"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_SIGNINGS))
async def test_a_malformed_timestamp_or_signature_gets_401_not_500(
    running: Running, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"command=%2Fticket&text=note+1+forged&user_id=U0ENG1&channel_id=C0SUPPORT"
    timestamp, signature = MALFORMED_SIGNINGS[case]
    if timestamp == "now":
        timestamp = str(int(time.time()))
    headers = _headers_signed_with(timestamp, body, signature)
    await _refused_quietly(running, body, headers, caplog)


@pytest.mark.parametrize("sign", ["unsigned", "wrong_secret", "old_timestamp"])
async def test_a_huge_body_not_signed_by_slack_gets_401(
    running: Running, sign: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"payload=" + b"x" * (3 * 1024 * 1024)
    headers = {"Content-Type": FORM}
    if sign != "unsigned":
        secret = "not-the-secret" if sign == "wrong_secret" else SIGNING_SECRET
        stamp = int(time.time()) - (0 if sign == "wrong_secret" else 3600)
        headers = app_requests.signed_headers(secret, body, content_type=FORM, timestamp=stamp)
    await _refused_quietly(running, body, headers, caplog)


async def _refused_quietly(
    running: Running, body: bytes, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The request gets 401, and nothing is logged as an error."""
    with caplog.at_level(logging.INFO):
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{running.url}/slack/events", data=body, headers=headers) as response,
        ):
            status = response.status
    assert status == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
