"""The bot's Web API calls go over kept connections (one HTTP session for the process, see
``bot.services.delivery.web_client``), read from the stand-in's record of which connection
each call came on; and the session is closed when the bot stops."""

from __future__ import annotations

import aiohttp

from bot.config import Config
from bot.sandbox.standin import SlackStandIn
from bot.services.delivery import close_client, web_client
from tests.fakes import FakeClock
from tests.harness import BOT_TOKEN, Running, running_bot
from tests.reliability.support import FORM, report_body, signed_headers, until


async def test_calls_one_after_another_share_one_connection(slack: SlackStandIn) -> None:
    client = web_client(BOT_TOKEN, slack.api_url, timeout=5.0)
    try:
        for n in range(3):
            await client.chat_postMessage(channel="C0SUPPORT", text=f"kept {n}")
    finally:
        await close_client(client)
    calls = slack.calls("chat.postMessage")
    assert len(calls) == 3
    assert all(call.connection for call in calls)
    assert len({call.connection for call in calls}) == 1


async def test_a_reports_messages_do_not_each_open_a_connection(running: Running) -> None:
    body = report_body("VKEPT1", "Checkout fails", yes=True)  # class A: the on-call is paged too
    async with aiohttp.ClientSession() as http:
        url = f"{running.url}/slack/events"
        async with http.post(url, data=body.encode(), headers=signed_headers(body, FORM)) as sent:
            assert sent.status == 200
    slack = running.slack
    await until(lambda: len(slack.calls("chat.postMessage")) >= 4, what="the report's messages")
    calls = slack.calls()
    assert len({call.connection for call in calls}) < len(calls)


async def test_stopping_the_bot_closes_its_http_session(
    db_url: str, config: Config, clock: FakeClock
) -> None:
    async with running_bot(db_url, config, clock) as run:
        session = run.bot.client.session
        assert session is not None
        assert not session.closed
    assert session.closed
