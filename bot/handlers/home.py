"""Mentions (a command in a ticket's thread, or an offer to report), messages written to the
bot by direct message (an offer to report), and the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.roles import may
from bot.domain.tickets import Ticket
from bot.errors import UserError
from bot.handlers.background import after_answer
from bot.handlers.ticket import AGAIN, execute
from bot.services import queries
from bot.services.context import Context
from bot.services.readers import Readers
from bot.services.steps import StepIntake, first_time, ticket_in_thread
from bot.slack import report_form
from bot.slack.delivered import without_me
from bot.slack.i18n import Translator
from bot.slack.ticket_parser import first_word, help_text, parse, verb_of
from bot.slack.views import home_view

_ANYWHERE = frozenset({"list", "report", "help"})  # commands that name no ticket
# The message events of something a person newly wrote: plain, with files, a thread's reply
# also sent to the conversation.
_WRITTEN = frozenset({None, "file_share", "thread_broadcast"})


def thread_help(tr: Translator, ticket: Ticket) -> str:
    return (
        tr(
            "In the thread of %(ref)s, mention me with a step (`ack`, `take`, `cause …`, "
            "`plan …`, `show`, …) or with any text to add it to %(ref)s as a note.",
            ref=ticket.ref,
        )
        + "\n"
        + help_text(tr)
    )


async def _in_ticket_thread(
    ctx: Context,
    steps: StepIntake,
    ticket: Ticket,
    text: str,
    user: str,
    key: str,
    client: AsyncWebClient,
    tr: Translator,
) -> dict[str, Any] | None:
    """The answer to a mention in a ticket's thread (None: a retry answered before). A step
    (English or Chinese name) names the thread's ticket; text that is no command is a note on
    it; someone who may not add notes, or a mention with no text, gets the help."""
    word, rest = first_word(text)
    verb = verb_of(word) if word else None
    try:
        if verb is not None and verb not in _ANYWHERE:
            command = parse(f"{verb} {ticket.number} {rest}".strip())
        elif verb is not None:
            command = parse(text)
        elif text and may(ticket, "note", ctx.actor(user)):
            command = parse(f"note {ticket.number} {text}")
        else:
            return {"text": thread_help(tr, ticket)} if await first_time(ctx, key) else None
        answer = await execute(
            ctx,
            steps,
            command,
            user_id=user,
            trigger_id=None,
            client=client,
            tr=tr,
            request_key=key,
        )
    except UserError as exc:
        answer = {"text": tr.say(exc.message)}
    return None if answer.pop(AGAIN, False) else answer


def register(app: AsyncApp, ctx: Context, steps: StepIntake, readers: Readers) -> None:
    async def handle_mention(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, me: str | None
    ) -> None:
        text = without_me(event.get("text", ""), me)
        channel, user = event["channel"], event["user"]
        thread_ts = event.get("thread_ts")
        key = f"evt:{body.get('event_id')}"
        tr = await readers.of(client, user)
        if thread_ts:
            ticket = await ticket_in_thread(ctx, channel=channel, thread_ts=thread_ts)
            if ticket is not None:  # a ticket's own thread: a step, a note, or the help
                answer = await _in_ticket_thread(ctx, steps, ticket, text, user, key, client, tr)
                if answer is not None:
                    await client.chat_postEphemeral(
                        channel=channel, user=user, thread_ts=thread_ts, **answer
                    )
                return
        if not text:  # the bot mentioned alone: how to report (once, not on Slack's retry)
            if await first_time(ctx, key):
                await client.chat_postEphemeral(
                    channel=channel,
                    user=user,
                    thread_ts=thread_ts,
                    text=tr(
                        "Mention me with the problem and I will offer to open a ticket for "
                        "it, or use `/report`."
                    ),
                )
            return
        if not await first_time(ctx, key, keep=text):
            return
        await client.chat_postEphemeral(
            channel=channel,
            user=user,
            thread_ts=thread_ts or event.get("ts"),
            text=tr("Shall I open a ticket for this?"),
            blocks=report_form.report_offer(tr, key),
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
        event: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        after_answer(handle_mention(event, body, client, context.bot_user_id))

    # A message written to the bot in its direct messages (the app's Messages tab): Slack
    # sends no app_mention there, so the problem is offered a report as a mention's is.
    @app.event("message")
    async def written_to_me(
        event: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        person = event.get("user")
        if (
            event.get("channel_type") != "im"
            or event.get("subtype") not in _WRITTEN  # an edit, a deletion: nothing new
            or event.get("bot_id")  # the bot's own DMs (and other apps')
            or not isinstance(person, str)
            or person == context.bot_user_id
        ):
            return
        after_answer(handle_mention(event, body, client, context.bot_user_id))

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        after_answer(publish_home(event, client))
