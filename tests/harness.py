"""The real bot, served over HTTP, wired to the Slack stand-in: what the end-to-end tests drive."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.app import Escalator, build
from bot.clock import Clock
from bot.config import Config
from bot.sandbox.standin import SlackStandIn, StandInChannel, StandInUser
from bot.services.delivery import DeliverySettings, Pacing
from bot.settings import load_settings

BOT_TOKEN = "xoxb-test-bot-token"
SIGNING_SECRET = "test-signing-secret"

USERS = (
    StandInUser(id="U0REP", name="rita", real_name="Rita Reporter"),
    StandInUser(id="U0ENG1", name="erin", real_name="Erin Engineer"),
    StandInUser(id="U0ENG2", name="eli", real_name="Eli Engineer"),
    StandInUser(id="U0ENG3", name="ezra", real_name="Ezra Engineer"),
    StandInUser(id="U0MGR1", name="max", real_name="Max Manager", tz="Europe/Berlin"),
    StandInUser(id="U0CUST", name="carl", real_name="Carl Customer"),
)
CHANNELS = (
    StandInChannel(id="C0SUPPORT", name="support"),
    StandInChannel(id="C0MANAGERS", name="managers"),
    StandInChannel(id="C0CUST1", name="highway"),
    StandInChannel(id="C0CUST2", name="old-mill"),
    StandInChannel(id="C0RANDOM", name="random"),
)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    slack: SlackStandIn
    bot: Escalator
    url: str


# Slack's posting rate, lifted: the stand-in has no such limit, and the stories post fast.
FAST = Pacing(rate=1000.0, burst=1000)


@asynccontextmanager
async def running_bot(
    db_url: str,
    config: Config,
    clock: Clock,
    *,
    real_pacing: bool = False,
    slack: SlackStandIn | None = None,
    delivery: DeliverySettings | None = None,
    follow_calendar: bool = True,
    **build_args: Any,
) -> AsyncIterator[Running]:
    """The bot and the stand-in over HTTP. Slack's posting rate (1 a second per channel) is
    lifted unless ``real_pacing`` (or ``delivery`` says otherwise); ``build_args`` go to
    ``build()``. Pass a started ``slack`` to start the bot again against the same workspace
    (a restart); it is left running. The bot answers at once; unless ``follow_calendar`` is
    False, this waits for the start's pass over the open tickets before yielding."""
    own_slack = slack is None
    if slack is None:
        slack = SlackStandIn(
            bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, users=USERS, channels=CHANNELS
        )
        await slack.start()
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": db_url,
        }
    )
    if delivery is None:
        delivery = DeliverySettings() if real_pacing else DeliverySettings(pacing=FAST)
    escalator = await build(settings, config, clock, delivery=delivery, **build_args)
    runner = web.AppRunner(escalator.web_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    slack.bot_events_url = f"{url}/slack/events"
    if follow_calendar and escalator.calendar_followed is not None:
        await escalator.calendar_followed  # the start's pass over the open tickets
    try:
        yield Running(slack=slack, bot=escalator, url=url)
    finally:
        await runner.cleanup()
        if own_slack:
            await slack.stop()
