"""Mentions (a command in a ticket's thread, or an offer to report) and the App Home tab."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.handlers.background import after_answer
from bot.handlers.readers import Readers
from bot.handlers.ticket import AGAIN, execute
from bot.services import queries
from bot.services.context import Context
from bot.services.steps import StepIntake, first_time, ticket_in_thread
from bot.slack import blocks
from bot.slack.ticket_parser import parse, verb_of
from bot.slack.views import home_view

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_NOT_IN_THREAD = frozenset({"list", "report", "help"})


def register(app: AsyncApp, ctx: Context, steps: StepIntake, readers: Readers) -> None:
    async def handle_mention(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        text = _MENTION.sub("", event.get("text", "")).strip()
        channel, user = event["channel"], event["user"]
        thread_ts = event.get("thread_ts")
        verb = verb_of(text.split(maxsplit=1)[0]) if text else None
        tr = await readers.of(client, user)
        if thread_ts and verb is not None and verb not in _NOT_IN_THREAD:
            ticket = await ticket_in_thread(ctx, channel=channel, thread_ts=thread_ts)
            if ticket is not None:
                rest = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
                try:
                    command = parse(f"{verb} {ticket.number} {rest}".strip())
                    answer = await execute(
                        ctx,
                        steps,
                        command,
                        user_id=user,
                        trigger_id=None,
                        client=client,
                        tr=tr,
                        request_key=f"evt:{body.get('event_id')}",
                    )
                except UserError as exc:
                    answer = {"text": tr.say(exc.message)}
                if answer.pop(AGAIN, False):
                    return  # a retry of a mention already answered
                await client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, **answer
                )
                return
        if not text or not await first_time(ctx, f"evt:{body.get('event_id')}"):
            return
        await client.chat_postEphemeral(
            channel=channel,
            user=user,
            thread_ts=thread_ts or event.get("ts"),
            text=tr("Shall I open a ticket for this?"),
            blocks=blocks.report_offer(text),
        )

    async def publish_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        data = await queries.home(ctx, user)
        tr = await readers.of(client, user)
        await client.views_publish(user_id=user, view=home_view(tr, data, ctx.clock.now()))

    # Events are answered at once (Slack retries an event it has no answer to in 3 s).
    @app.event("app_mention")
    async def mentioned(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        after_answer(handle_mention(event, body, client))

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        after_answer(publish_home(event, client))
