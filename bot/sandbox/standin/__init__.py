"""A local stand-in for Slack: its Web API for the bot, and Slack's signed requests to the bot.

The bot talks to it as to Slack (``AsyncWebClient(base_url=standin.api_url)``); tests and the
sandbox page drive the bot through it (``await standin.slash_command(...)``) and read back what
the bot did (``standin.messages("#support")``, ``standin.views``, ``await standin.wait_for(...)``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from aiohttp import web

from bot.sandbox.standin.api import WebApiMethods
from bot.sandbox.standin.blocks import InputValue
from bot.sandbox.standin.driver import Driver
from bot.sandbox.standin.driving import DrivingMixin
from bot.sandbox.standin.faults import ANY_METHOD, Fault, Faults
from bot.sandbox.standin.files import StoredFile
from bot.sandbox.standin.http import StandInHttp
from bot.sandbox.standin.model import (
    Change,
    EphemeralMessage,
    RecordedCall,
    ResponseUrlPost,
    SentRequest,
    StandInChannel,
    StandInError,
    StandInUser,
    StoredMessage,
    StoredView,
)
from bot.sandbox.standin.sender import Sender, Signing
from bot.sandbox.standin.socket_mode import SocketMode
from bot.sandbox.standin.state import Workspace
from bot.sandbox.standin.views import ViewStore

__all__ = [
    "ANY_METHOD",
    "Change",
    "EphemeralMessage",
    "Fault",
    "InputValue",
    "RecordedCall",
    "ResponseUrlPost",
    "SentRequest",
    "Signing",
    "SlackStandIn",
    "StandInChannel",
    "StandInError",
    "StandInUser",
    "StoredFile",
    "StoredMessage",
    "StoredView",
]

T = TypeVar("T")


class SlackStandIn(DrivingMixin):
    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str,
        users: Sequence[StandInUser] = (),
        channels: Sequence[StandInChannel] = (),
        bot_user_id: str = "UBOT",
        bot_id: str = "B0ESCAL",
        bot_name: str = "escalator",
        team_id: str = "T0ESCAL",
        team_domain: str = "escalator-sandbox",
        team_name: str = "Escalator Sandbox",
        app_id: str = "A0ESCAL",
        verification_token: str = "legacy-verification-token",
        now: Callable[[], float] = time.time,
        trigger_ttl: float = 3.0,
        request_timeout: float = 10.0,
        app_token: str | None = None,
    ) -> None:
        """``app_token`` (xapp-…) puts the stand-in in Socket Mode: the app connects with it,
        and every request goes to the app on its socket instead of to ``bot_events_url``."""
        self._ws = Workspace(
            users=users,
            channels=channels,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            bot_name=bot_name,
            team_id=team_id,
            team_domain=team_domain,
            app_id=app_id,
            now=now,
            trigger_ttl=trigger_ttl,
        )
        self._views = ViewStore(self._ws)
        self._faults = Faults()
        self._stopping = asyncio.Event()
        self._methods = WebApiMethods(
            self._ws, self._views, base_url=lambda: self.base_url, team_name=team_name
        )
        self._socket_mode = (
            None
            if app_token is None
            else SocketMode(
                app_token=app_token,
                app_id=app_id,
                base_url=lambda: self.base_url,
                timeout=request_timeout,
                wake=self._ws.wake,
            )
        )
        self._http = StandInHttp(
            self._ws,
            self._methods,
            self._faults,
            bot_token=bot_token,
            stopping=self._stopping,
            socket_mode=self._socket_mode,
        )
        self._sender = Sender(
            signing_secret=signing_secret, timeout=request_timeout, socket_mode=self._socket_mode
        )
        self._driver = Driver(
            self._ws,
            self._views,
            self._sender,
            response_base=lambda: self.base_url,
            verification_token=verification_token,
        )
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # ---- serving -----------------------------------------------------------------------

    def web_app(self) -> web.Application:
        """The aiohttp application (always the same one); more routes may be added before start."""
        if self._app is None:
            self._app = web.Application()
            self._http.add_routes(self._app)
        return self._app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._stopping.clear()
        self._runner = web.AppRunner(self.web_app(), shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}/"

    async def stop(self) -> None:
        self._stopping.set()
        if self._socket_mode is not None:
            await self._socket_mode.close()
        await self._sender.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/`` where the stand-in listens (settable when served elsewhere)."""
        if self._base_url is None:
            raise StandInError("the stand-in is not started")
        return self._base_url

    @base_url.setter
    def base_url(self, url: str) -> None:
        self._base_url = url if url.endswith("/") else url + "/"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give the bot, ``http://127.0.0.1:PORT/api/``."""
        return self.base_url + "api/"

    @property
    def socket_connected(self) -> bool:
        """An app is connected in Socket Mode (always False for a stand-in without it)."""
        return self._socket_mode is not None and self._socket_mode.connected

    @property
    def bot_events_url(self) -> str | None:
        """Where signed requests go: the bot's ``POST /slack/events`` URL."""
        return self._sender.events_url

    @bot_events_url.setter
    def bot_events_url(self, url: str | None) -> None:
        self._sender.events_url = url

    # ---- the workspace -----------------------------------------------------------------

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot_user_id

    @property
    def team_id(self) -> str:
        return self._ws.team_id

    @property
    def users(self) -> Mapping[str, StandInUser]:
        return dict(self._ws.users)

    @property
    def channels(self) -> Mapping[str, StandInChannel]:
        return dict(self._ws.channels)

    def dm_channel(self, user: str) -> str:
        """The id of the bot's direct-message conversation with ``user``."""
        return self._ws.dm_channel(user)

    def resolve_channel(self, channel: str) -> str:
        """A conversation id from an id, ``#name``, name or user id (their DM with the bot)."""
        return self._ws.resolve_channel(channel)

    # ---- what happened -----------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every Web API call in order of arrival, or those of one method."""
        return self._ws.calls(method)

    def messages(self, channel: str, thread_ts: str | None = None) -> list[StoredMessage]:
        """A conversation's top-level messages in order, or one thread (its parent first)."""
        return self._ws.messages(channel, thread_ts)

    def file(self, file_id: str) -> StoredFile | None:
        """A file uploaded through files.getUploadURLExternal (its bytes once uploaded)."""
        return self._methods.files.files.get(file_id)

    def message(self, channel: str, ts: str) -> StoredMessage | None:
        return self._ws.find_message(self._ws.resolve_channel(channel), ts)

    def all_messages(self) -> list[StoredMessage]:
        return self._ws.all_messages()

    def ephemerals(self, user: str, channel: str | None = None) -> list[EphemeralMessage]:
        """Ephemeral messages shown to ``user`` (still present), in order."""
        resolved = None if channel is None else self._ws.resolve_channel(channel)
        return self._ws.ephemerals(user, resolved)

    def responses(self, response_id: str | None = None) -> list[ResponseUrlPost]:
        """Everything the app posted to response URLs, in order."""
        return self._ws.responses(response_id)

    @property
    def views(self) -> Mapping[str, StoredView]:
        """Every view by id: open, closed, and App Home views."""
        return dict(self._views.views)

    def modal_stack(self, user: str) -> list[StoredView]:
        """The modals open for ``user``, bottom first; the last is what they see."""
        return self._views.stack(user)

    def modal(self, user: str) -> StoredView | None:
        """The modal ``user`` sees now, if any."""
        return self._views.top(user)

    def home(self, user: str) -> StoredView | None:
        """The App Home view published for ``user``."""
        return self._views.home(user)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy, re-checking on every change; return its value."""
        return await self._ws.wait_for(predicate, timeout)

    def add_listener(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener`` on every change; returns a function that removes it."""
        return self._ws.add_listener(listener)

    def subscribe(self) -> asyncio.Queue[Change]:
        """A queue that receives every change from now on (for a page streaming updates)."""
        return self._ws.subscribe()

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._ws.unsubscribe(queue)

    # ---- faults ------------------------------------------------------------------------

    def fail(
        self, method: str, *, status: int = 500, times: int | None = 1, channel: str | None = None
    ) -> Fault:
        """The next ``times`` calls of ``method`` (``"*"``: any; to ``channel``, if given)
        answer HTTP ``status``."""
        fault = Fault(method, "error", status=status, remaining=times, channel=channel)
        return self._faults.add(fault)

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int | None = 1) -> Fault:
        """The next ``times`` calls answer HTTP 429 with ``Retry-After: retry_after``."""
        fault = Fault(method, "rate_limit", retry_after=retry_after, remaining=times)
        return self._faults.add(fault)

    def hang(
        self,
        method: str,
        seconds: float,
        *,
        times: int | None = 1,
        channel: str | None = None,
        drop_if_gone: bool = False,
    ) -> Fault:
        """The next ``times`` calls (to ``channel``, if given) wait ``seconds`` before they are
        answered (as usual): Slack holding a call open. With ``drop_if_gone``, a call whose
        caller is gone by then (killed) is dropped: not done, as if Slack never took it."""
        fault = Fault(
            method,
            "hang",
            seconds=seconds,
            remaining=times,
            channel=channel,
            drop_if_gone=drop_if_gone,
        )
        return self._faults.add(fault)

    def refuse(
        self, method: str, error: str, *, channel: str | None = None, times: int | None = None
    ) -> Fault:
        """Calls of ``method`` (to ``channel``, as the call names it) answer ``ok: false`` with
        ``error`` ("is_archived", "not_in_channel"), until cleared unless ``times``."""
        fault = Fault(method, "refuse", remaining=times, channel=channel, error=error)
        return self._faults.add(fault)

    def clear_faults(self, method: str | None = None) -> None:
        self._faults.clear(method)

    @property
    def faults(self) -> list[Fault]:
        return self._faults.active

    # ---- triggers ----------------------------------------------------------------------

    def issue_trigger(self, user: str) -> str:
        """A trigger_id for ``user``, valid for ``trigger_ttl`` seconds and one use."""
        return self._ws.issue_trigger(user)

    def expire_triggers(self) -> None:
        """Make every trigger_id issued so far expired."""
        self._ws.expire_triggers()
