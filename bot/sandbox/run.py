"""``escalator sandbox``: the real bot, a local stand-in for Slack, and a page to use them.

One process, one event loop:

- the stand-in (Slack's Web API for the bot) and the page (its HTML, JSON API and live
  updates) share one aiohttp server at ``http://HOST:PORT``;
- the bot, built by :func:`bot.app.build` exactly as ``escalator serve`` builds it, listens on
  an internal ephemeral port of 127.0.0.1; the stand-in posts signed requests to its
  ``POST /slack/events`` as Slack would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
import sys
from importlib import resources
from pathlib import Path

from aiohttp import web

from bot.app import Escalator, build
from bot.clock import Clock, SystemClock
from bot.config import Config, load_config
from bot.errors import UserError
from bot.logs import setup_logging
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.webui import Page
from bot.sandbox.webui_workspace import DemoWorkspace, demo_workspace
from bot.settings import DEFAULT_DATABASE_URL, Settings

log = logging.getLogger("escalator")

SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./escalator-sandbox.db"
BOT_NAME = "Escalator"


def demo_config_path() -> str:
    """The demo config shipped with the package (bot/demo/config.toml)."""
    ref = resources.files("bot") / "demo" / "config.toml"
    return str(ref)


def sandbox_settings(settings: Settings) -> Settings:
    """The settings the sandbox runs with: secrets made up for the session, SQLite, demo config.

    ``slack_api_url`` is set later, when the stand-in's address is known.
    """
    token = settings.slack_bot_token or f"xoxb-sandbox-{secrets.token_hex(12)}"
    if not token.startswith("xox"):
        token = f"xoxb-sandbox-{secrets.token_hex(12)}"
    database_url = settings.database_url
    if database_url == DEFAULT_DATABASE_URL:
        database_url = SANDBOX_DATABASE_URL
    return dataclasses.replace(
        settings,
        slack_bot_token=token,
        slack_signing_secret=settings.slack_signing_secret or secrets.token_hex(16),
        database_url=database_url,
        config_path=settings.config_path or demo_config_path(),
    )


class Sandbox:
    """The stand-in, the page and the bot, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        config: Config,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        clock: Clock | None = None,
    ) -> None:
        self.settings = sandbox_settings(settings)
        self.config = config
        self.host = host
        self.port = port
        self.clock: Clock = clock or SystemClock()
        self.workspace: DemoWorkspace = demo_workspace(config)
        self.standin = SlackStandIn(
            bot_token=self.settings.require_bot_token(),
            signing_secret=self.settings.require_signing_secret(),
            users=self.workspace.users,
            channels=self.workspace.channels,
            bot_name=BOT_NAME,
        )
        self.page = Page(self.standin, self.workspace)
        self.page.add_routes(self.standin.web_app())
        self.escalator: Escalator | None = None
        self._bot_runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The page's address, ``http://HOST:PORT/``."""
        if self._url is None:
            raise RuntimeError("the sandbox is not started")
        return self._url

    async def start(self) -> None:
        try:
            await self.standin.start(self.host, self.port)
        except OSError as exc:
            await self.standin.stop()
            reason = exc.strerror or str(exc)
            raise UserError(
                "sandbox: cannot listen on %(host)s:%(port)s: %(reason)s",
                host=self.host,
                port=self.port,
                reason=reason,
            ) from None
        bound = self.standin.base_url
        self._url = bound
        # The bot reaches the stand-in over loopback, whatever address the page is served on.
        port = bound.rstrip("/").rsplit(":", 1)[1]
        self.standin.base_url = f"http://127.0.0.1:{port}/"
        bot_settings = dataclasses.replace(self.settings, slack_api_url=self.standin.api_url)
        try:
            self.escalator = await build(bot_settings, self.config, self.clock)
            self._bot_runner = web.AppRunner(
                self.escalator.web_app(), access_log=None, shutdown_timeout=1.0
            )
            await self._bot_runner.setup()
            await web.TCPSite(self._bot_runner, "127.0.0.1", 0).start()
        except BaseException:
            await self.stop()
            raise
        bot_host, bot_port = self._bot_runner.addresses[0][:2]
        self.standin.bot_events_url = f"http://{bot_host}:{bot_port}/slack/events"

    async def stop(self) -> None:
        await self.page.close()
        if self._bot_runner is not None:
            await self._bot_runner.cleanup()  # stops the bot's workers, closes its database
            self._bot_runner = None
        elif self.escalator is not None:
            await self.escalator.stop()
        self.escalator = None
        await self.standin.stop()


async def run_sandbox(settings: Settings, host: str, port: int) -> None:
    """Run the sandbox until Ctrl-C or SIGTERM."""
    sandbox_config = sandbox_settings(settings).config_path
    config = load_config(sandbox_config)
    sandbox = Sandbox(settings, config, host=host, port=port)
    secrets_ = sandbox.settings
    setup_logging([secrets_.slack_bot_token or "", secrets_.slack_signing_secret or ""])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await sandbox.start()
        shown_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        page_url = f"http://{shown_host}:{sandbox.url.rstrip('/').rsplit(':', 1)[1]}"
        db = sandbox.settings.database_url.split("///", 1)[-1]
        print(f"escalator sandbox: open {page_url}", flush=True)
        print(
            f"escalator sandbox: config {Path(sandbox_config or '').name}, database {db}; "
            "Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
        log.info("escalator sandbox stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await sandbox.stop()
