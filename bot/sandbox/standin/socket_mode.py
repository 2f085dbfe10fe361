"""Slack's Socket Mode: the app asks ``apps.connections.open`` (with its app-level token) for a
WebSocket URL and connects; Slack then sends each request as an envelope on that socket instead
of posting it, and the app answers (its ack) with the envelope's id on the same socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.standin.model import JsonDict, StandInError

# What Slack names the kinds of envelope, by what they carry.
SLASH_COMMANDS = "slash_commands"
INTERACTIVE = "interactive"
EVENTS_API = "events_api"


def envelope_type(payload: JsonDict) -> str:
    """The envelope a request travels in: a slash command, an event, or an interaction."""
    if "command" in payload:
        return SLASH_COMMANDS
    if payload.get("type") == "event_callback":
        return EVENTS_API
    if payload.get("type") == "url_verification":
        raise StandInError("Socket Mode has no url_verification: the app is not posted to")
    return INTERACTIVE


class SocketMode:
    """The stand-in's side of Socket Mode: connection URLs, the connections, and the acks owed."""

    def __init__(
        self,
        *,
        app_token: str,
        app_id: str,
        base_url: Callable[[], str],
        timeout: float,
        wake: Callable[[], None],
    ) -> None:
        self.app_token = app_token
        self._wake = wake
        self._app_id = app_id
        self._base_url = base_url
        self._timeout = timeout
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._acks: dict[str, asyncio.Future[JsonDict | None]] = {}

    # ---- the app connects --------------------------------------------------------------

    def open_connection(self) -> JsonDict:
        """``apps.connections.open``'s answer: a URL good for one connection."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        url = self._base_url().replace("http://", "ws://", 1) + f"socket/{ticket}"
        return {"ok": True, "url": url}

    async def connect(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket the app opens at the URL it was given; Slack greets it with hello."""
        ticket = request.match_info["ticket"]
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid or used connection URL")
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)  # answers the client's pings
        await socket.prepare(request)
        self._sockets.append(socket)
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "stand-in", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self._app_id},
        }
        await socket.send_str(json.dumps(hello))
        self._connected.set()
        self._wake()
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT:
                    self._acked(message.data)
        finally:
            self._sockets.remove(socket)
            if not self._sockets:
                self._connected.clear()
            self._wake()
        return socket

    def _acked(self, data: str) -> None:
        try:
            ack: Any = json.loads(data)
        except ValueError:
            return
        if not isinstance(ack, dict):
            return
        waiting = self._acks.pop(str(ack.get("envelope_id")), None)
        if waiting is not None and not waiting.done():
            payload = ack.get("payload")
            waiting.set_result(payload if isinstance(payload, dict) else None)

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    # ---- Slack sends a request ---------------------------------------------------------

    async def request(
        self, payload: JsonDict, *, retry_attempt: int | None, retry_reason: str | None
    ) -> JsonDict | None:
        """Send ``payload`` in an envelope on the newest connection (waiting for one); return the
        payload of the app's ack (None when it acked with none)."""
        async with asyncio.timeout(self._timeout):
            await self._connected.wait()
        kind = envelope_type(payload)
        envelope_id = str(uuid.uuid4())
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != EVENTS_API,
        }
        if kind == EVENTS_API:
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        acked: asyncio.Future[JsonDict | None] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = acked
        try:
            await self._sockets[-1].send_str(json.dumps(envelope))
            async with asyncio.timeout(self._timeout):
                return await acked
        finally:
            self._acks.pop(envelope_id, None)

    async def close(self) -> None:
        """Slack going away: every connection is closed (the app reconnects when it can)."""
        for socket in list(self._sockets):
            with contextlib.suppress(ConnectionError):
                await socket.close()
