"""The stand-in's HTTP side: ``/api/<method>`` and ``/response/<id>``, with auth and faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from bot.sandbox.standin.api import WebApiMethods
from bot.sandbox.standin.blocks import with_ids
from bot.sandbox.standin.faults import Faults
from bot.sandbox.standin.limits import MAX_RESPONSE_URL_USES, ApiError, message_content
from bot.sandbox.standin.model import JsonDict, ResponseTarget
from bot.sandbox.standin.socket_mode import SocketMode
from bot.sandbox.standin.state import Workspace


async def read_params(request: web.Request) -> tuple[JsonDict, str | None]:
    """The call's arguments from the query string and the body (form or JSON), and its token."""
    params: JsonDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body: Any = json.loads(await request.text() or "{}")
            except ValueError:
                raise ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise ApiError("invalid_json")
            params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = params.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
    return params, None if token is None else str(token)


class StandInHttp:
    def __init__(
        self,
        ws: Workspace,
        methods: WebApiMethods,
        faults: Faults,
        *,
        bot_token: str,
        stopping: asyncio.Event,
        socket_mode: SocketMode | None = None,
    ) -> None:
        self._socket_mode = socket_mode
        self._ws = ws
        self._methods = methods
        self._faults = faults
        self._bot_token = bot_token
        self._stopping = stopping

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/response/{response_id}", self.response_url)
        app.router.add_post("/upload/{file_id}", self.upload)
        app.router.add_get("/files/{file_id}/{name}", self.download)
        if self._socket_mode is not None:
            app.router.add_get("/socket/{ticket}", self._socket_mode.connect)

    async def upload(self, request: web.Request) -> web.Response:
        """The upload URL of files.getUploadURLExternal: the file's bytes, POSTed as the body."""
        file_id = request.match_info["file_id"]
        content = await request.read()
        call = self._ws.record_call("upload", {"file_id": file_id, "bytes": len(content)})
        status, text = self._methods.files.upload(file_id, content)
        call.status = status
        call.response = {"ok": status == 200, "body": text}
        self._ws.wake()
        return web.Response(status=status, text=text)

    async def download(self, request: web.Request) -> web.Response:
        """A shared file's ``url_private`` (the sandbox page shows images from here)."""
        stored = self._methods.files.files.get(request.match_info["file_id"])
        if stored is None or stored.content is None or stored.name != request.match_info["name"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.content, content_type=stored.mimetype)

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        parse_error: ApiError | None = None
        try:
            params, token = await read_params(request)
        except ApiError as exc:
            params, token, parse_error = {}, None, exc
        fault = self._faults.take(method, params)
        call = self._ws.record_call(
            method, params, None if fault is None else fault.label, connection=_peer(request)
        )
        if fault is not None and fault.kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.seconds)
            transport = request.transport
            if fault.drop_if_gone and (transport is None or transport.is_closing()):
                call.fault = f"{fault.label}_dropped"
                return web.json_response({"ok": False, "error": "dropped"}, status=499)
        elif fault is not None and fault.kind == "refuse":
            call.response = {"ok": False, "error": fault.error}
            return web.json_response(call.response)
        elif fault is not None:
            rate_limited = fault.kind == "rate_limit"
            call.status = 429 if rate_limited else fault.status
            call.response = {"ok": False, "error": "ratelimited" if rate_limited else "fatal_error"}
            headers = {"Retry-After": str(fault.retry_after)} if rate_limited else {}
            return web.json_response(call.response, status=call.status, headers=headers)
        call.response = self._answer(method, params, token, parse_error)
        self._ws.wake()
        return web.json_response(call.response)

    def _answer(
        self, method: str, params: JsonDict, token: str | None, parse_error: ApiError | None
    ) -> JsonDict:
        if parse_error is not None:
            return parse_error.as_response()
        if not token:
            return {"ok": False, "error": "not_authed"}
        app_token = None if self._socket_mode is None else self._socket_mode.app_token
        if method == "apps.connections.open":  # the one method of the app-level token
            if token == self._bot_token:
                return {"ok": False, "error": "not_allowed_token_type"}
            if self._socket_mode is None or token != app_token:
                return {"ok": False, "error": "invalid_auth"}
            return self._socket_mode.open_connection()
        if token == app_token:
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self._bot_token:
            return {"ok": False, "error": "invalid_auth"}
        handler = self._methods.table.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        try:
            return handler(params)
        except ApiError as exc:
            return exc.as_response()

    async def response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        target = self._ws.response_targets.get(response_id)
        if target is None:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        target.uses += 1
        if target.uses > MAX_RESPONSE_URL_USES:
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        self._ws.record_response(response_id, body)
        try:
            apply_message_response(self._ws, target, body)
        except ApiError as exc:
            return web.json_response(exc.as_response(), status=400)
        return web.json_response({"ok": True})


def apply_message_response(ws: Workspace, target: ResponseTarget, body: JsonDict) -> None:
    """Do what Slack does with a message sent to a ``response_url`` (or a command's ack)."""
    original_ts = target.message_ts
    if _flag(body.get("delete_original")) and original_ts is not None:
        _delete_original(ws, target, original_ts)
        return
    text, blocks, attachments = message_content(body)
    blocks = None if blocks is None else with_ids(blocks)
    if _flag(body.get("replace_original")) and original_ts is not None:
        if target.is_ephemeral:
            eph = ws.find_ephemeral(target.channel, original_ts)
            if eph is not None:
                ws.change_ephemeral(eph, text=text, blocks=blocks, delete=False)
                return
        else:
            msg = ws.find_message(target.channel, original_ts)
            if msg is not None and msg.user == ws.bot_user_id:
                ws.update_message(msg, text=text, blocks=blocks)
                return
    thread_ts = body.get("thread_ts") or target.thread_ts
    if body.get("response_type") == "in_channel":
        ws.post_message(
            target.channel,
            user=ws.bot_user_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=None if thread_ts is None else str(thread_ts),
        )
    else:
        ws.post_ephemeral(
            target.channel,
            user=target.user,
            text=text,
            blocks=blocks,
            thread_ts=None if thread_ts is None else str(thread_ts),
            source="response_url",
        )


def _delete_original(ws: Workspace, target: ResponseTarget, ts: str) -> None:
    if target.is_ephemeral:
        eph = ws.find_ephemeral(target.channel, ts)
        if eph is not None:
            ws.change_ephemeral(eph, text=eph.text, blocks=eph.blocks, delete=True)
        return
    msg = ws.find_message(target.channel, ts)
    if msg is not None and msg.user == ws.bot_user_id:
        ws.delete_message(msg)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _peer(request: web.Request) -> str:
    """The caller's end of the connection a request came on, as host:port."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if peer else ""
