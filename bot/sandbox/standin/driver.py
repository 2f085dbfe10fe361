"""The Slack side of the conversation: signed requests to the app's ``POST /slack/events``."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.standin.app_requests import FORM, interaction_body, slash_command_form
from bot.sandbox.standin.blocks import InputValue, action, find_element
from bot.sandbox.standin.http import apply_message_response
from bot.sandbox.standin.limits import ApiError, check_view
from bot.sandbox.standin.model import (
    JsonDict,
    ResponseTarget,
    SentRequest,
    StandInError,
    StoredView,
)
from bot.sandbox.standin.sender import Sender
from bot.sandbox.standin.state import Workspace
from bot.sandbox.standin.views import ViewStore


class Driver:
    """Builds the payloads Slack sends for commands, clicks, submissions, shortcuts and events."""

    def __init__(
        self,
        ws: Workspace,
        views: ViewStore,
        sender: Sender,
        *,
        response_base: Callable[[], str],
        verification_token: str,
    ) -> None:
        self._ws = ws
        self._views = views
        self.sender = sender
        self._response_base = response_base
        self._token = verification_token

    # ---- common pieces -----------------------------------------------------------------

    def _user(self, user: str) -> JsonDict:
        if user not in self._ws.users:
            raise StandInError(f"unknown user {user!r}")
        name = self._ws.users[user].name
        return {"id": user, "username": name, "name": name, "team_id": self._ws.team_id}

    def _team(self) -> JsonDict:
        return {"id": self._ws.team_id, "domain": self._ws.team_domain}

    def _response_url(self, target: ResponseTarget) -> str:
        return f"{self._response_base()}response/{self._ws.issue_response_url(target)}"

    def _interaction_base(self, kind: str, user: str) -> JsonDict:
        return {
            "type": kind,
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self._ws.app_id,
            "token": self._token,
            "trigger_id": self._ws.issue_trigger(user),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def _interaction(self, payload: JsonDict, **send: Any) -> SentRequest:
        body = interaction_body(payload)
        return await self.sender.send(body, content_type=FORM, payload=payload, **send)

    # ---- slash commands ----------------------------------------------------------------

    async def slash_command(
        self, *, user: str, command: str, text: str, channel: str | None, **send: Any
    ) -> SentRequest:
        ws = self._ws
        self._user(user)
        channel_id = ws.dm_channel(user) if channel is None else ws.resolve_channel(channel)
        target = ResponseTarget(user=user, channel=channel_id)
        form = slash_command_form(
            token=self._token,
            team_id=ws.team_id,
            team_domain=ws.team_domain,
            channel_id=channel_id,
            channel_name=ws.channel_name(channel_id),
            user_id=user,
            user_name=ws.users[user].name,
            command=command if command.startswith("/") else f"/{command}",
            text=text,
            api_app_id=ws.app_id,
            response_url=self._response_url(target),
            trigger_id=ws.issue_trigger(user),
        )
        sent = await self.sender.send(
            urlencode(form), content_type=FORM, payload=dict(form), **send
        )
        if sent.status == 200 and sent.body.strip():
            ack = sent.json if isinstance(sent.json, dict) else {"text": sent.body}
            with contextlib.suppress(ApiError):  # Slack shows an error; nothing is stored
                apply_message_response(ws, target, ack)
        return sent

    # ---- block actions -----------------------------------------------------------------

    async def block_action(
        self,
        *,
        user: str,
        action_id: str,
        value: InputValue,
        block_id: str | None,
        channel: str | None,
        message_ts: str | None,
        view_id: str | None,
        values: Mapping[str, InputValue] | None,
        **send: Any,
    ) -> SentRequest:
        ws = self._ws
        payload = self._interaction_base("block_actions", user)
        action_ts = ws.next_ts()
        if view_id is not None:
            stored = self._views.get(view_id)
            if values:
                self._views.set_values(stored, values)
            found = find_element(stored.blocks, action_id, block_id)
            if found.block_type == "input":
                self._views.set_values(stored, {f"{found.block_id}.{found.action_id}": value})
            payload["container"] = {"type": "view", "view_id": stored.id}
            payload["view"] = stored.as_slack()
            payload["actions"] = [action(found, value, action_ts)]
            return await self._interaction(payload, **send)
        if channel is None or message_ts is None:
            raise StandInError("block_action needs view_id, or channel and message_ts")
        channel_id = ws.resolve_channel(channel)
        msg = ws.find_message(channel_id, message_ts)
        eph = ws.find_ephemeral(channel_id, message_ts) if msg is None else None
        if msg is None and (eph is None or eph.user != user):
            raise StandInError(f"no message {message_ts} in {channel_id} that {user} can see")
        blocks = msg.blocks if msg is not None else eph.blocks if eph is not None else None
        found = find_element(blocks or [], action_id, block_id)
        thread_ts = msg.thread_ts if msg is not None else eph.thread_ts if eph else None
        target = ResponseTarget(
            user=user,
            channel=channel_id,
            message_ts=message_ts,
            is_ephemeral=msg is None,
            thread_ts=thread_ts,
        )
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": msg is None,
        }
        payload["channel"] = {"id": channel_id, "name": ws.channel_name(channel_id)}
        if msg is not None:
            payload["message"] = ws.message_dict(msg)
        payload["state"] = {"values": {}}
        payload["response_url"] = self._response_url(target)
        payload["actions"] = [action(found, value, action_ts)]
        return await self._interaction(payload, **send)

    # ---- modals ------------------------------------------------------------------------

    async def view_submission(
        self,
        *,
        user: str | None,
        view_id: str | None,
        values: Mapping[str, InputValue] | None,
        **send: Any,
    ) -> SentRequest:
        stored = self._modal(user, view_id)
        if values:
            self._views.set_values(stored, values)
        payload = self._interaction_base("view_submission", stored.user)
        payload["view"] = stored.as_slack()
        payload["response_urls"] = []
        sent = await self._interaction(payload, **send)
        if sent.status == 200:
            self._apply_submission_ack(stored.user, sent)
        return sent

    def _modal(self, user: str | None, view_id: str | None) -> StoredView:
        if view_id is None:
            if user is None:
                raise StandInError("name the view_id or the user whose modal it is")
            top = self._views.top(user)
            if top is None:
                raise StandInError(f"{user} has no modal open")
            return top
        stored = self._views.get(view_id)
        if self._views.top(stored.user) is not stored:
            raise StandInError(f"view {view_id} is not the modal its user sees")
        return stored

    def _apply_submission_ack(self, user: str, sent: SentRequest) -> None:
        ack = sent.json if isinstance(sent.json, dict) else {}
        kind = ack.get("response_action")
        top = self._views.top(user)
        try:
            if kind == "errors" and top is not None:
                self._views.set_errors(top, dict(ack.get("errors") or {}))
            elif kind == "update" and top is not None:
                self._views.update(top, check_view(ack.get("view"), kind="modal"), None)
            elif kind == "push":
                self._views.push(user, check_view(ack.get("view"), kind="modal"))
            elif kind == "clear":
                self._views.clear(user)
            else:
                self._views.close_top(user)
        except ApiError:
            pass  # Slack keeps the modal as it was and shows a connection error

    async def view_closed(
        self, *, user: str, view_id: str | None, is_cleared: bool, **send: Any
    ) -> SentRequest | None:
        stored = self._modal(user, view_id)
        payload = self._interaction_base("view_closed", user)
        payload.pop("trigger_id")
        payload["view"] = stored.as_slack()
        payload["is_cleared"] = is_cleared
        if is_cleared:
            self._views.clear(user)
        else:
            self._views.close_top(user)
        if not stored.view.get("notify_on_close"):
            return None
        return await self._interaction(payload, **send)

    # ---- shortcuts ---------------------------------------------------------------------

    async def message_shortcut(
        self, *, user: str, callback_id: str, channel: str, message_ts: str, **send: Any
    ) -> SentRequest:
        ws = self._ws
        channel_id = ws.resolve_channel(channel)
        msg = ws.find_message(channel_id, message_ts)
        if msg is None:
            raise StandInError(f"no message {message_ts} in {channel_id}")
        payload = self._interaction_base("message_action", user)
        payload["action_ts"] = ws.next_ts()
        payload["callback_id"] = callback_id
        payload["channel"] = {"id": channel_id, "name": ws.channel_name(channel_id)}
        payload["message_ts"] = message_ts
        payload["message"] = ws.message_dict(msg)
        payload["response_url"] = self._response_url(
            ResponseTarget(user=user, channel=channel_id, thread_ts=msg.thread_ts)
        )
        return await self._interaction(payload, **send)

    # ---- events ------------------------------------------------------------------------

    async def event(self, event: Mapping[str, Any], **send: Any) -> SentRequest:
        ws = self._ws
        envelope: JsonDict = {
            "token": self._token,
            "team_id": ws.team_id,
            "api_app_id": ws.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(ws.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ws.team_id,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        return await self.sender.send(
            json.dumps(envelope), content_type="application/json", payload=envelope, **send
        )

    def message_event_body(
        self, kind: str, *, user: str, channel: str, text: str, thread_ts: str | None
    ) -> JsonDict:
        """Store a message a person wrote; return the ``message``/``app_mention`` event for it."""
        ws = self._ws
        self._user(user)
        channel_id = ws.resolve_channel(channel)
        msg = ws.post_message(channel_id, user=user, text=text, thread_ts=thread_ts)
        event: JsonDict = {
            "type": kind,
            "user": user,
            "text": text,
            "ts": msg.ts,
            "channel": channel_id,
            "event_ts": msg.ts,
            "team": ws.team_id,
            "client_msg_id": str(uuid.uuid4()),
            "blocks": [_rich_text(text)],
        }
        if msg.thread_ts is not None:
            event["thread_ts"] = msg.thread_ts
        if kind == "message":
            event["channel_type"] = ws.channel_type(channel_id)
        return event

    def home_opened_body(self, user: str) -> JsonDict:
        self._user(user)
        event: JsonDict = {
            "type": "app_home_opened",
            "user": user,
            "channel": self._ws.dm_channel(user),
            "tab": "home",
            "event_ts": self._ws.next_ts(),
        }
        home = self._views.home(user)
        if home is not None:
            event["view"] = home.as_slack()
        return event

    async def url_verification(self, challenge: str, **send: Any) -> SentRequest:
        body: JsonDict = {"token": self._token, "challenge": challenge, "type": "url_verification"}
        return await self.sender.send(
            json.dumps(body), content_type="application/json", payload=body, **send
        )

    async def resend(self, sent: SentRequest, **send: Any) -> SentRequest:
        return await self.sender.send(
            sent.raw_body, content_type=sent.content_type, payload=sent.payload, **send
        )


def _rich_text(text: str) -> JsonDict:
    return {
        "type": "rich_text",
        "block_id": uuid.uuid4().hex[:5],
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }
