"""The Web API methods the stand-in answers, with Slack's response shapes and error codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.standin.blocks import with_ids
from bot.sandbox.standin.files import FileStore
from bot.sandbox.standin.limits import ApiError, check_view, json_param, message_content
from bot.sandbox.standin.model import JsonDict, StandInUser, StoredMessage
from bot.sandbox.standin.state import Workspace
from bot.sandbox.standin.views import ViewStore

Method = Callable[[JsonDict], JsonDict]


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _str(params: JsonDict, key: str) -> str | None:
    value = params.get(key)
    return None if value is None or value == "" else str(value)


class WebApiMethods:
    """One Python method per Slack method; each takes the call's arguments, returns the answer."""

    def __init__(
        self, ws: Workspace, views: ViewStore, *, base_url: Callable[[], str], team_name: str
    ) -> None:
        self._ws = ws
        self._views = views
        self._base_url = base_url
        self._team_name = team_name
        self.files = FileStore(ws, base_url)
        self.table: dict[str, Method] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "conversations.list": self.conversations_list,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "reactions.add": self.reactions_add,
            "files.getUploadURLExternal": self.files.get_upload_url,
            "files.completeUploadExternal": self.files.complete,
        }

    # ---- auth and people ---------------------------------------------------------------

    def auth_test(self, p: JsonDict) -> JsonDict:
        ws = self._ws
        return {
            "ok": True,
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": self._team_name,
            "user": ws.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def _user_object(self, user_id: str) -> JsonDict:
        ws = self._ws
        if user_id == ws.bot_user_id:
            user = StandInUser(id=user_id, name=ws.bot_name, real_name=ws.bot_name, tz="UTC")
        elif user_id in ws.users:
            user = ws.users[user_id]
        else:
            raise ApiError("user_not_found")
        zone = ZoneInfo(user.tz)
        local = datetime.fromtimestamp(ws.now(), UTC).astimezone(zone)
        offset = local.utcoffset()
        profile: JsonDict = {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "team": ws.team_id,
            "image_48": "",
        }
        if user.email:
            profile["email"] = user.email
        is_bot = user_id == ws.bot_user_id
        if is_bot:
            profile["bot_id"] = ws.bot_id
            profile["api_app_id"] = ws.app_id
        return {
            "id": user.id,
            "team_id": ws.team_id,
            "name": user.name,
            "deleted": False,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": local.tzname() or user.tz,
            "tz_offset": 0 if offset is None else int(offset.total_seconds()),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(ws.now()),
        }

    def users_info(self, p: JsonDict) -> JsonDict:
        user = self._user_object(str(p.get("user") or ""))
        if str(p.get("include_locale", "")).lower() in ("true", "1"):
            known = self._ws.users.get(user["id"])
            user["locale"] = known.locale if known is not None else "en-US"
        return {"ok": True, "user": user}

    def users_list(self, p: JsonDict) -> JsonDict:
        ids = [*self._ws.users, self._ws.bot_user_id]
        return {
            "ok": True,
            "members": [self._user_object(u) for u in ids],
            "cache_ts": int(self._ws.now()),
            "response_metadata": {"next_cursor": ""},
        }

    # ---- messages ----------------------------------------------------------------------

    def _message(self, p: JsonDict, ts_key: str = "ts") -> StoredMessage:
        channel = self._ws.resolve_channel(p.get("channel"))
        msg = self._ws.find_message(channel, str(p.get(ts_key) or ""))
        if msg is None:
            raise ApiError("message_not_found")
        return msg

    def chat_post_message(self, p: JsonDict) -> JsonDict:
        ws = self._ws
        channel = ws.resolve_channel(p.get("channel"))
        text, blocks, attachments = message_content(p)
        metadata = json_param(p.get("metadata"), error="invalid_metadata_format")
        msg = ws.post_message(
            channel,
            user=ws.bot_user_id,
            text=text,
            blocks=None if blocks is None else with_ids(blocks),
            attachments=attachments,
            thread_ts=_str(p, "thread_ts"),
            metadata=metadata if isinstance(metadata, dict) else None,
            reply_broadcast=_truthy(p.get("reply_broadcast")),
        )
        return {"ok": True, "channel": channel, "ts": msg.ts, "message": ws.message_dict(msg)}

    def chat_update(self, p: JsonDict) -> JsonDict:
        msg = self._message(p)
        if msg.user != self._ws.bot_user_id:
            raise ApiError("cant_update_message")
        text, blocks, _ = message_content(p, require=False)
        if "blocks" not in p:
            blocks = msg.blocks
        if "text" not in p:
            text = msg.text
        if not text and not blocks:
            raise ApiError("no_text")
        self._ws.update_message(msg, text=text, blocks=None if not blocks else with_ids(blocks))
        return {
            "ok": True,
            "channel": msg.channel,
            "ts": msg.ts,
            "text": msg.text,
            "message": self._ws.message_dict(msg),
        }

    def chat_post_ephemeral(self, p: JsonDict) -> JsonDict:
        ws = self._ws
        channel = ws.resolve_channel(p.get("channel"))
        user = str(p.get("user") or "")
        if user not in ws.users:
            raise ApiError("user_not_in_channel")
        text, blocks, _ = message_content(p)
        eph = ws.post_ephemeral(
            channel,
            user=user,
            text=text,
            blocks=None if blocks is None else with_ids(blocks),
            thread_ts=_str(p, "thread_ts"),
        )
        return {"ok": True, "message_ts": eph.ts}

    def chat_delete(self, p: JsonDict) -> JsonDict:
        msg = self._message(p)
        if msg.user != self._ws.bot_user_id:
            raise ApiError("cant_delete_message")
        self._ws.delete_message(msg)
        return {"ok": True, "channel": msg.channel, "ts": msg.ts}

    def chat_get_permalink(self, p: JsonDict) -> JsonDict:
        msg = self._message(p, "message_ts")
        link = f"{self._base_url()}archives/{msg.channel}/p{msg.ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={msg.channel}"
        return {"ok": True, "channel": msg.channel, "permalink": link}

    def reactions_add(self, p: JsonDict) -> JsonDict:
        name = str(p.get("name") or "").strip(":")
        if not name:
            raise ApiError("invalid_name")
        msg = self._message(p, "timestamp")
        self._ws.add_reaction(msg, name, self._ws.bot_user_id)
        return {"ok": True}

    # ---- conversations -----------------------------------------------------------------

    def _conversation(self, channel: str) -> JsonDict:
        ws = self._ws
        created = 1_600_000_000
        kind = ws.channel_type(channel)
        if kind == "im":
            return {
                "id": channel,
                "created": created,
                "is_im": True,
                "is_org_shared": False,
                "user": ws.dm_user(channel),
                "is_user_deleted": False,
                "priority": 0,
            }
        name = ws.channel_name(channel)
        return {
            "id": channel,
            "name": name,
            "name_normalized": name,
            "is_channel": kind == "channel",
            "is_group": kind == "group",
            "is_im": False,
            "is_mpim": kind == "mpim",
            "is_private": kind != "channel",
            "created": created,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "creator": "",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def conversations_open(self, p: JsonDict) -> JsonDict:
        ws = self._ws
        if p.get("channel"):
            channel = ws.resolve_channel(p.get("channel"))
        else:
            users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
            if not users:
                raise ApiError("users_list_not_supplied")
            for user in users:
                if user not in ws.users:
                    raise ApiError("user_not_found")
            channel = ws.dm_channel(users[0]) if len(users) == 1 else ws.group_channel(users)
        if _truthy(p.get("return_im")):
            return {"ok": True, "channel": self._conversation(channel)}
        return {"ok": True, "channel": {"id": channel}}

    def conversations_info(self, p: JsonDict) -> JsonDict:
        channel = self._ws.resolve_channel(p.get("channel"))
        return {"ok": True, "channel": self._conversation(channel)}

    def conversations_list(self, p: JsonDict) -> JsonDict:
        """Channels (public and private, as ``types`` asks), a page of ``limit`` at a time."""
        types = {t.strip() for t in str(p.get("types") or "public_channel").split(",")}
        wanted = [
            channel
            for channel in self._ws.channels.values()
            if ("private_channel" if channel.is_private else "public_channel") in types
        ]
        limit = int(p.get("limit") or 100) or 100
        cursor = str(p.get("cursor") or "")
        start = int(cursor.removeprefix("offset:")) if cursor.startswith("offset:") else 0
        page = wanted[start : start + limit]
        more = start + limit < len(wanted)
        return {
            "ok": True,
            "channels": [self._conversation(channel.id) for channel in page],
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
        }

    def conversations_history(self, p: JsonDict) -> JsonDict:
        channel = self._ws.resolve_channel(p.get("channel"))
        inclusive = _truthy(p.get("inclusive"))
        oldest, latest = _str(p, "oldest"), _str(p, "latest")

        def keep(msg: StoredMessage) -> bool:
            after = oldest is None or _ts_cmp(msg.ts, oldest) > (-1 if inclusive else 0)
            before = latest is None or _ts_cmp(msg.ts, latest) < (1 if inclusive else 0)
            return after and before

        found = [m for m in reversed(self._ws.messages(channel)) if keep(m)]
        return self._page(found, p, extra={"pin_count": 0})

    def conversations_replies(self, p: JsonDict) -> JsonDict:
        msg = self._message(p)
        root = msg.thread_ts or msg.ts
        return self._page(self._ws.messages(msg.channel, root), p)

    def _page(
        self, found: list[StoredMessage], p: JsonDict, extra: JsonDict | None = None
    ) -> JsonDict:
        limit = int(p.get("limit") or 100) or 100
        cursor = str(p.get("cursor") or "")
        start = int(cursor.removeprefix("offset:")) if cursor.startswith("offset:") else 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": [self._ws.message_dict(m) for m in page],
            "has_more": more,
            **(extra or {}),
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
        }

    # ---- views -------------------------------------------------------------------------

    def views_open(self, p: JsonDict) -> JsonDict:
        view = check_view(p.get("view"), kind="modal")
        user = self._ws.use_trigger(p.get("trigger_id") or p.get("interactivity_pointer"))
        return {"ok": True, "view": self._views.open(user, view).as_slack()}

    def views_push(self, p: JsonDict) -> JsonDict:
        view = check_view(p.get("view"), kind="modal")
        user = self._ws.use_trigger(p.get("trigger_id") or p.get("interactivity_pointer"))
        return {"ok": True, "view": self._views.push(user, view).as_slack()}

    def views_update(self, p: JsonDict) -> JsonDict:
        view_id, external_id = _str(p, "view_id"), _str(p, "external_id")
        if view_id is None and external_id is None:
            raise ApiError("invalid_arguments", "[ERROR] view_id or external_id is required")
        if view_id is not None:
            stored = self._views.views.get(view_id)
        else:
            stored = self._views.by_external_id(str(external_id))
        if stored is None:
            raise ApiError("not_found")
        view = check_view(p.get("view"), kind=stored.type)
        updated = self._views.update(stored, view, _str(p, "hash"))
        return {"ok": True, "view": updated.as_slack()}

    def views_publish(self, p: JsonDict) -> JsonDict:
        user = str(p.get("user_id") or "")
        if user not in self._ws.users:
            raise ApiError("user_not_found")
        view = check_view(p.get("view"), kind="home")
        return {"ok": True, "view": self._views.publish(user, view, _str(p, "hash")).as_slack()}


def _ts_cmp(a: str, b: str) -> int:
    fa, fb = _ts_key(a), _ts_key(b)
    return (fa > fb) - (fa < fb)


def _ts_key(ts: str) -> tuple[int, int]:
    whole, _, frac = ts.partition(".")
    try:
        return int(whole), int((frac + "000000")[:6])
    except ValueError:
        return 0, 0


def dumps(body: JsonDict) -> str:
    return json.dumps(body, ensure_ascii=False)
