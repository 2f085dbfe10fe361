"""``/oncall``: who is on call now and next; ``/oncall override @user 4h`` (SPEC §5, §6)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError, Message, UserError
from bot.services.context import Context
from bot.services.oncall import OVERRIDE_LENGTH, override_primary, who_is_on_call
from bot.services.readers import Readers
from bot.sla.policy import parse_duration
from bot.slack.blocks import quoted
from bot.slack.oncall_text import oncall_answer, override_taken

USAGE = Message("Write `/oncall` to see who is on call, or `/oncall override @user 4h`.")
# Slack sends a mention as <@U123|name> (or <@U123>); a bare user id is taken as well.
_USER = re.compile(r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,}))$")


def parse_override(text: str) -> tuple[str, timedelta]:
    """``override <@U123|name> 4h`` → (``U123``, 4 hours); UserError with the right form."""
    words = text.split()
    if not words or words[0].lower() != "override":
        raise UserError(USAGE)
    if len(words) != 3:  # "override 4h": whom?
        raise UserError(
            "`/oncall override` takes a user and how long: `/oncall override @user 4h`."
        )
    match = _USER.match(words[1])
    if match is None:
        raise UserError(
            "Name the user with @, as in `/oncall override @erin 4h`. %(usage)s", usage=USAGE
        )
    try:
        length = parse_duration(words[2], key="duration").elapsed
    except (ConfigError, ValueError):  # ValueError: a month has no fixed length
        raise UserError(
            "`%(word)s` is not a duration; write it like 90m, 4h or 1d: "
            "`/oncall override @user 4h`.",
            word=quoted(words[2]),
        ) from None
    except OverflowError:  # "99999999999w": longer than any date can reach
        raise UserError(OVERRIDE_LENGTH) from None
    return match.group(1) or match.group(2), length


def register(app: AsyncApp, ctx: Context, readers: Readers) -> None:
    @app.command("/oncall")
    async def oncall(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        text = str(body.get("text") or "").strip()
        tr = await readers.of(client, body["user_id"])
        try:
            if not text:
                current, following = await who_is_on_call(ctx)
                await ack(response_type="ephemeral", text=oncall_answer(tr, current, following))
                return
            user, length = parse_override(text)
            trigger = body.get("trigger_id")
            override, (current, following) = await override_primary(
                ctx,
                actor=body["user_id"],
                user=user,
                length=length,
                request_key=f"oncall:{trigger}" if trigger else None,
            )
        except UserError as error:
            await ack(response_type="ephemeral", text=tr.say(error.message))
            return
        await ack(
            response_type="ephemeral",
            text=override_taken(tr, override.user, override.end)
            + "\n"
            + oncall_answer(tr, current, following),
        )
