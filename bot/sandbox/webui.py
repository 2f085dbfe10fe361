"""The sandbox page: its HTML and static files, a JSON API to act as any user, live updates.

Every action goes through the stand-in, which sends the bot the signed request Slack would
send. Routes (JSON bodies; every POST needs ``Content-Type: application/json``):

- ``GET  /``                        the page
- ``GET  /sandbox/api/state?user=U`` what U sees (conversations, messages, modal, App Home)
- ``POST /sandbox/api/switch``      ``{user}``: act as U (answers U's state)
- ``POST /sandbox/api/message``     ``{user, channel, text, thread_ts?}``: a message or /command
- ``POST /sandbox/api/action``      ``{user, action_id, block_id?, value?, channel?, message_ts?,
  view_id?, values?}``: a button, select, overflow, date picker, radio button …
- ``POST /sandbox/api/submit``      ``{user, view_id, values}``: the modal's submit button
- ``POST /sandbox/api/close``       ``{user, view_id}``: the modal's close button
- ``POST /sandbox/api/shortcut``    ``{user, callback_id, channel, message_ts}``
- ``POST /sandbox/api/home``        ``{user}``: open the App Home tab
- ``GET  /sandbox/api/events?user=U`` server-sent events: ``change`` whenever U's view changed
- ``GET  /sandbox/api/texts``       the page's words in the workspace's language
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.standin import Change, InputValue, SentRequest, SlackStandIn, StandInError
from bot.sandbox.webui_state import JsonDict, app_features, encode_text, is_for, snapshot
from bot.sandbox.webui_workspace import DemoWorkspace
from bot.slack.i18n import all_texts

STATIC = Path(__file__).with_name("static")
KEEPALIVE_SECONDS = 15.0
_TS = re.compile(r"\d{1,12}\.\d{6}")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """The page asked for something malformed; answered with 400 and the reason."""


class Page:
    def __init__(self, standin: SlackStandIn, workspace: DemoWorkspace) -> None:
        self.standin = standin
        self.workspace = workspace
        self._streams: set[asyncio.Queue[Change | None]] = set()
        self._remove_listener: Callable[[], None] | None = None
        self._closed = False

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_static("/static/", STATIC, append_version=False)
        app.router.add_get("/archives/{channel}/{message}", self.permalink)
        app.router.add_get("/sandbox/api/state", self.state)
        app.router.add_get("/sandbox/api/events", self.events)
        app.router.add_get("/sandbox/api/texts", self.texts)
        posts: dict[str, Callable[[JsonDict], Awaitable[JsonDict]]] = {
            "switch": self._switch,
            "message": self._message,
            "action": self._action,
            "submit": self._submit,
            "close": self._close_view,
            "shortcut": self._shortcut,
            "home": self._home,
        }
        for name, work in posts.items():
            app.router.add_post(f"/sandbox/api/{name}", self._json_post(work))
        app.on_shutdown.append(self._on_shutdown)

    async def close(self) -> None:
        """End every live-update stream (the server is stopping)."""
        self._closed = True
        for queue in list(self._streams):
            queue.put_nowait(None)
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    async def _on_shutdown(self, _app: web.Application) -> None:
        await self.close()

    # ---- pages -------------------------------------------------------------------------

    async def index(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC / "index.html",
            headers={
                "Content-Security-Policy": CSP,
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def permalink(self, request: web.Request) -> web.Response:
        """A message's permalink (chat.getPermalink) opens the page at that message."""
        channel = request.match_info["channel"]
        message = request.match_info["message"]
        if not (channel.isalnum() and message[:1] == "p" and message[1:].isdigit()):
            raise web.HTTPNotFound()
        thread_ts = request.query.get("thread_ts", "")
        query = f"?thread_ts={thread_ts}" if _TS.fullmatch(thread_ts) else ""
        raise web.HTTPFound(f"/#/archives/{channel}/{message}{query}")

    async def state(self, request: web.Request) -> web.Response:
        try:
            user = self._user(request.query.get("user"))
        except BadRequest as exc:
            return _error(400, str(exc))
        return web.json_response(snapshot(self.standin, self.workspace, user))

    async def texts(self, _request: web.Request) -> web.Response:
        """The page's words in the workspace's language, from the bot's catalogs."""
        language = self.workspace.language
        return web.json_response({"language": language.value, "texts": all_texts(language)})

    async def events(self, request: web.Request) -> web.StreamResponse:
        try:
            user = self._user(request.query.get("user"))
        except BadRequest as exc:
            return _error(400, str(exc))
        dm = self.standin.dm_channel(user)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        queue: asyncio.Queue[Change | None] = asyncio.Queue()
        self._listen()
        self._streams.add(queue)
        try:
            await response.write(b"retry: 1000\nevent: hello\ndata: {}\n\n")
            while not self._closed:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        change = await queue.get()
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if change is None:
                    break
                if is_for(change, user, dm):
                    data = json.dumps(change.as_dict())
                    await response.write(f"event: change\ndata: {data}\n\n".encode())
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass  # the page went away
        finally:
            self._streams.discard(queue)
        with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
            await response.write_eof()
        return response

    def _listen(self) -> None:
        if self._remove_listener is None:
            self._remove_listener = self.standin.add_listener(self._fan_out)

    def _fan_out(self, change: Change) -> None:
        for queue in self._streams:
            queue.put_nowait(change)

    # ---- acting as a user --------------------------------------------------------------

    def _json_post(self, work: Callable[[JsonDict], Awaitable[JsonDict]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if request.content_type != "application/json":
                return _error(415, "send JSON (Content-Type: application/json)")
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "the body is not JSON")
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            try:
                return web.json_response(await work(body))
            except BadRequest as exc:
                return _error(400, str(exc))
            except StandInError as exc:
                return _error(409, str(exc))
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _error(502, f"the app did not answer: {type(exc).__name__}")

        return handler

    async def _switch(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        return snapshot(self.standin, self.workspace, user)

    async def _message(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        channel = self._channel(body.get("channel"), user)
        text = _str(body, "text", required=True).strip()
        thread_ts = _str(body, "thread_ts") or None
        if not text:
            raise BadRequest("the message is empty")
        if text.startswith("/"):
            return await self._command(user, channel, text)
        features = app_features()
        encoded = encode_text(text, self.standin, with_names=False)
        is_dm = channel == self.standin.dm_channel(user)
        mention = f"<@{self.standin.bot_user_id}>"
        if mention in encoded and not is_dm and "app_mention" in features.events:
            sent = await self.standin.app_mention(
                user=user, channel=channel, text=encoded, thread_ts=thread_ts
            )
            return _sent(sent, event=True)
        wanted = "message.im" if is_dm else "message.channels"
        if wanted in features.events:
            sent = await self.standin.user_message(
                user=user, channel=channel, text=encoded, thread_ts=thread_ts
            )
            return _sent(sent, event=True)
        # The app does not subscribe to such messages: Slack stores them and tells it nothing.
        self.standin.post_as_user(user=user, channel=channel, text=encoded, thread_ts=thread_ts)
        return {"ok": True}

    async def _command(self, user: str, channel: str, line: str) -> JsonDict:
        command, _, rest = line.partition(" ")
        if "\n" in command:
            command, _, more = command.partition("\n")
            rest = f"{more} {rest}".strip()
        features = app_features()
        if command not in {c["command"] for c in features.commands}:
            raise BadRequest(f"{command} is not a valid command")
        text = rest.strip()
        if command in features.escape_commands:
            text = encode_text(text, self.standin, with_names=True)
        sent = await self.standin.slash_command(
            user=user, command=command, text=text, channel=channel
        )
        return _sent(sent)

    async def _action(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        view_id = _str(body, "view_id") or None
        channel = None
        message_ts = None
        if view_id is None:
            channel = self._channel(body.get("channel"), user)
            message_ts = _str(body, "message_ts", required=True)
        else:
            self._own_view(user, view_id)
        sent = await self.standin.block_action(
            user=user,
            action_id=_str(body, "action_id", required=True),
            block_id=_str(body, "block_id") or None,
            value=_input(body.get("value")),
            channel=channel,
            message_ts=message_ts,
            view_id=view_id,
            values=_values(body.get("values")),
        )
        return _sent(sent)

    async def _submit(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        view_id = _str(body, "view_id", required=True)
        self._own_view(user, view_id)
        sent = await self.standin.view_submission(
            user=user, view_id=view_id, values=_values(body.get("values"))
        )
        return _sent(sent)

    async def _close_view(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        view_id = _str(body, "view_id", required=True)
        self._own_view(user, view_id)
        sent = await self.standin.view_closed(user=user, view_id=view_id)
        return {"ok": True} if sent is None else _sent(sent)

    async def _shortcut(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        channel = self._channel(body.get("channel"), user)
        callback_id = _str(body, "callback_id", required=True)
        if callback_id not in {s["callback_id"] for s in app_features().shortcuts}:
            raise BadRequest(f"the app has no shortcut {callback_id!r}")
        sent = await self.standin.message_shortcut(
            user=user,
            callback_id=callback_id,
            channel=channel,
            message_ts=_str(body, "message_ts", required=True),
        )
        return _sent(sent)

    async def _home(self, body: JsonDict) -> JsonDict:
        user = self._user(body.get("user"))
        if "app_home_opened" not in app_features().events:
            return {"ok": True}
        return _sent(await self.standin.app_home_opened(user=user), event=True)

    # ---- checks ------------------------------------------------------------------------

    def _user(self, user: object) -> str:
        if not isinstance(user, str) or user not in self.standin.users:
            raise BadRequest(f"unknown user {user!r}")
        return user

    def _channel(self, channel: object, user: str) -> str:
        """A conversation ``user`` can see: a channel, or their own DM with the bot."""
        if not isinstance(channel, str):
            raise BadRequest("name the channel")
        if channel in self.standin.channels or channel == self.standin.dm_channel(user):
            return channel
        raise BadRequest(f"{user} cannot see the conversation {channel!r}")

    def _own_view(self, user: str, view_id: str) -> None:
        stored = self.standin.views.get(view_id)
        if stored is None or stored.user != user:
            raise BadRequest(f"{user} has no view {view_id!r}")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _sent(sent: SentRequest, *, event: bool = False) -> JsonDict:
    """The app's answer as the page needs it.

    Slack tells the user when a command or an interaction fails; an event the app does not
    handle (404) or fails on goes unnoticed by users, so the page shows nothing either.
    """
    if sent.status != 200 and not event:
        return {"ok": False, "error": f"the app answered HTTP {sent.status}", "status": sent.status}
    return {"ok": True, "status": sent.status}


def _str(body: JsonDict, key: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"{key} must be a string")
    return value


def _input(value: Any) -> InputValue:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise BadRequest("an input value is a string, a list of strings, or null")


def _values(values: Any) -> dict[str, InputValue] | None:
    if values is None:
        return None
    if not isinstance(values, dict):
        raise BadRequest("values must be an object")
    return {str(k): _input(v) for k, v in values.items()}
