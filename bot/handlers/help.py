"""Any slash command the bot has no listener for gets the list of what it does know."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.blocks import escape
from bot.slack.ticket_parser import help_text

COMMANDS = (
    "• `/report [summary]`: report a problem",
    "• `/oncall`: who is on call now and next; `/oncall override @user 4h`",
    "• `/kb words`: search the knowledge base; `/kb add`, `/kb edit KB-3`, `/kb retire KB-3`",
)


def register(app: AsyncApp) -> None:
    @app.command(re.compile(r"^/"))
    async def unknown_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        command = escape(str(body.get("command", "")).replace("`", "'")[:40])
        await ack(
            text=f"I don't know `{command}`. I know:\n" + "\n".join(COMMANDS) + "\n" + help_text()
        )
