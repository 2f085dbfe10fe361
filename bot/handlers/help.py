"""Any slash command the bot has no listener for gets the list of what it does know."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services.readers import Readers
from bot.slack.blocks import escape
from bot.slack.i18n import Translator
from bot.slack.ticket_parser import help_text


def commands_text(tr: Translator) -> str:
    """The bot's commands, each in one line, then every `/ticket` subcommand."""
    lines = [
        tr("• `/report [summary]`: report a problem"),
        tr("• `/oncall`: who is on call now and next; `/oncall override @user 4h`"),
        tr(
            "• `/kb words`: search the knowledge base; "
            "`/kb add`, `/kb edit KB-3`, `/kb retire KB-3`"
        ),
    ]
    return "\n".join(lines) + "\n" + help_text(tr)


def register(app: AsyncApp, readers: Readers) -> None:
    @app.command(re.compile(r"^/"))
    async def unknown_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        command = escape(str(body.get("command", "")).replace("`", "'")[:40])
        tr = readers.known(str(body.get("user_id", "")))
        await ack(
            text=tr("I don't know `%(command)s`. I know:", command=command)
            + "\n"
            + commands_text(tr)
        )
