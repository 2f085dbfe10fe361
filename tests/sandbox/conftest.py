"""Fixtures: a running stand-in, a Web API client pointed at it, and a recording fake bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn, StandInChannel, StandInUser

BOT_TOKEN = "xoxb-stand-in-test"
SIGNING_SECRET = "stand-in-signing-secret"

USERS = (
    StandInUser(id="U0REP1", name="rita", real_name="Rita Reporter"),
    StandInUser(id="U0ENG1", name="eng1", real_name="Erin Engineer", tz="Europe/Berlin"),
    StandInUser(id="U0MGR1", name="mgr1", real_name="Max Manager", tz="America/New_York"),
)
CHANNELS = (
    StandInChannel(id="C0SUPPORT", name="support"),
    StandInChannel(id="C0MANAGERS", name="managers"),
)


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    s = SlackStandIn(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, users=USERS, channels=CHANNELS
    )
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
def client(standin: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url)


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class FakeBot:
    """A plain HTTP endpoint standing where the bot would: records requests, answers ``reply``."""

    received: list[Received] = field(default_factory=list)
    reply: Callable[[Received], web.Response] = lambda _: web.Response(status=200)

    async def handle(self, request: web.Request) -> web.Response:
        got = Received(headers=dict(request.headers), body=await request.text())
        self.received.append(got)
        return self.reply(got)


@pytest.fixture
async def fake_bot(standin: SlackStandIn) -> AsyncIterator[FakeBot]:
    bot = FakeBot()
    app = web.Application()
    app.router.add_post("/slack/events", bot.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    standin.bot_events_url = f"http://{host}:{port}/slack/events"
    yield bot
    await runner.cleanup()
