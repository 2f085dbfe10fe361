"""The Slack app manifest: the commands, shortcut, scopes and events the bot uses.

A manifest has one text per field, not one per language: the descriptions say it in
Chinese and in English, within Slack's lengths. ``users:read`` lets the bot ask each
person's Slack language (``users.info`` with ``include_locale``)."""

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
BOT_EVENTS = ("app_mention", "message.im", "app_home_opened")
LONG_DESCRIPTION = (
    "Escalator 是面向应用软件售后服务的 Slack 机器人：按 JZB10-2008 把问题分为 A、B、C、D "
    "四类，为每个问题开一张编号工单，按类别计算响应、确定原因和给出方案的时限，到期前提醒"
    "负责的工程师，A、B 类问题逐级升级到值班工程师和经理；报告人确认修复并评价服务。\n\n"
    "Escalator is a Slack bot for after-sales software support: it sorts each report into "
    "class A, B, C or D (JZB10-2008), opens a numbered ticket, keeps the clock on every "
    "promise of its class, reminds the engineers who owe the next step and escalates A and "
    "B problems to the on-call engineers and the managers; the reporter confirms the fix "
    "and rates the service."
)


def manifest(base_url: str = "https://escalator.example.com", *, socket_mode: bool = False) -> str:
    events_url = base_url.rstrip("/") + "/slack/events"
    commands = [
        ("/report", "报告问题 · Report a problem", "[摘要 summary]"),
        (
            "/ticket",
            "处理工单：确认、认领、原因、方案、解决、关闭、查看、列表、帮助 · "
            "Work a ticket: ack, take, cause, plan, resolve, close, show, list, help",
            "帮助 help",
        ),
        (
            "/oncall",
            "值班：现在与下一班，临时替班 · Who is on call now and next; override the primary",
            "[override @user 4h]",
        ),
        (
            "/kb",
            "知识库：搜索；工程师可添加、编辑、停用文章 · "
            "Search the knowledge base; engineers add, edit, retire articles",
            "[关键词 words]",
        ),
    ]
    data: dict[str, Any] = {
        "display_information": {
            "name": "Escalator",
            "description": "售后工单：分级、时限、提醒与升级 · "
            "Support tickets with SLA clocks, reminders and escalation",
            "long_description": LONG_DESCRIPTION,
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
                    "name": "报告问题 Report a problem",
                    "type": "message",
                    "callback_id": Callback.REPORT_SHORTCUT.value,
                    "description": "用这条消息开一张工单 · Open a support ticket from this message",
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
