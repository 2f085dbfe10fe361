"""The Slack app manifest: the commands, shortcut, scopes and events the bot uses."""

from __future__ import annotations

from typing import Any

import yaml

from bot.slack.ids import Callback

BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",  # conversations.list: #name channels in the config resolved to ids
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "users:read",
)
BOT_EVENTS = ("app_mention", "app_home_opened")


def manifest(base_url: str = "https://escalator.example.com", *, socket_mode: bool = False) -> str:
    events_url = base_url.rstrip("/") + "/slack/events"
    commands = [
        ("/report", "Report a problem", "[summary]"),
        (
            "/ticket",
            "Work a ticket: ack, take, cause, plan, resolve, close, show, list, help",
            "help",
        ),
        ("/oncall", "Who is on call now and next; override the primary", "[override @user 4h]"),
        ("/kb", "Search the knowledge base; engineers add, edit, retire articles", "[words]"),
    ]
    data: dict[str, Any] = {
        "display_information": {
            "name": "Escalator",
            "description": "Support tickets with SLA clocks, reminders and escalation",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Escalator", "always_online": True},
            "shortcuts": [
                {
                    "name": "Report a problem",
                    "type": "message",
                    "callback_id": Callback.REPORT_SHORTCUT.value,
                    "description": "Open a support ticket from this message",
                }
            ],
            "slash_commands": [
                {
                    "command": command,
                    "description": description,
                    "usage_hint": hint,
                    "should_escape": True,
                    **({} if socket_mode else {"url": events_url}),
                }
                for command, description, hint in commands
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {
                "bot_events": list(BOT_EVENTS),
                **({} if socket_mode else {"request_url": events_url}),
            },
            "interactivity": {
                "is_enabled": True,
                **({} if socket_mode else {"request_url": events_url}),
            },
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
