"""`/ticket`: steps on tickets and the read-only views (show, list, report, help)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.review import Review, check_begun, parse_month
from bot.domain.roles import Duty, check_duty
from bot.errors import UserError
from bot.handlers.ack_window import within
from bot.handlers.background import after_answer
from bot.handlers.kb import shown
from bot.services import kb, queries
from bot.services.context import Context
from bot.services.readers import Readers
from bot.services.review import month_review, this_month
from bot.services.review_post import first_share, share_files
from bot.services.steps import StepIntake, StepRequest, may
from bot.slack import ticket_card as blocks_ticket
from bot.slack.blocks import given_back
from bot.slack.delivered import typed
from bot.slack.i18n import N_, Translator
from bot.slack.kb import related_blocks
from bot.slack.review_blocks import review_blocks, review_text
from bot.slack.ticket_parser import TicketCommand, first_word, help_text, parse
from bot.slack.views import list_blocks, show_blocks

log = logging.getLogger(__name__)

AGAIN = "again"  # in an answer: the same request was answered before
NOT_DONE = N_(
    "This could not be done just now, and nothing changed. Here is what you typed, to try "
    "again in a while:"
)
MESSAGE_BLOCKS_MAX = 50  # Slack's limit of blocks in a message

LIST_TITLES = {
    "open": N_("Open tickets"),
    "mine": N_("Your tickets"),
    "breaching": N_("Tickets overdue or due within the hour"),
}


async def execute(
    ctx: Context,
    steps: StepIntake,
    command: TicketCommand,
    *,
    user_id: str,
    trigger_id: str | None,
    client: AsyncWebClient,
    tr: Translator,
    request_key: str | None = None,
    channel_id: str | None = None,
) -> dict[str, Any]:
    """Run a parsed command; returns the ephemeral answer (``text`` and maybe ``blocks``) in
    the language of the one who asked (``tr``). ``channel_id``: where the command was said
    (the review's chart and CSV are shared there)."""
    now = ctx.clock.now()
    if command.verb == "help":
        return {"text": help_text(tr)}
    if command.verb == "show":
        assert command.number is not None
        view = await queries.show(ctx, command.number)
        shown_blocks = show_blocks(view, now, tr)
        if ctx.config.is_engineer(user_id) or ctx.config.is_manager(user_id):
            related = related_blocks(tr, await shown(client, await kb.related(ctx, view.ticket)))
            if len(shown_blocks) + len(related) <= MESSAGE_BLOCKS_MAX:
                shown_blocks += related
        return {"text": f"{view.ticket.ref}", "blocks": shown_blocks}
    if command.verb == "list":
        listing = await queries.list_tickets(ctx, choice=command.argument, user_id=user_id)
        if command.argument in LIST_TITLES:
            title = tr(LIST_TITLES[command.argument])
        else:
            title = tr("Open class %(severity)s tickets", severity=command.argument)
        blocks = list_blocks(tr, listing.items, now, title, listing.total)
        return {"text": title, "blocks": blocks}
    if command.verb == "report":
        check_duty(Duty.READ_REPORT, ctx.actor(user_id))
        current = this_month(ctx)
        month = check_begun(parse_month(command.argument), current) if command.argument else current
        review = await month_review(ctx, month)
        if channel_id is not None and (
            request_key is None or await first_share(ctx, f"{request_key}:files")
        ):
            after_answer(_share_later(ctx, client, tr, review, channel_id, user_id))
        return {"text": review_text(tr, review), "blocks": review_blocks(tr, review)}
    assert command.number is not None and command.step is not None
    if command.verb == "resolve":
        ticket = await may(ctx, number=command.number, step=command.step, user_id=user_id)
        if trigger_id is None:
            raise UserError("Use the Resolve button or `/ticket resolve N` to open the checklist.")
        await client.views_open(
            trigger_id=trigger_id,
            view=blocks_ticket.checklist_modal(tr, ticket, command.step.text),
        )
        return {"text": tr("Fill in the maintenance checklist to resolve %(ref)s.", ref=ticket.ref)}
    outcome = await steps.run(
        StepRequest(command.number, command.step, user_id, request_key=request_key)
    )
    if outcome.change is None:  # Slack's retry of a request handled before
        return {"text": tr.say(outcome.message), AGAIN: True}
    return {"text": tr.say(outcome.message)}


def register(app: AsyncApp, ctx: Context, steps: StepIntake, readers: Readers) -> None:
    @app.command("/ticket")
    async def ticket_command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        user_id = body["user_id"]
        trigger_id = body.get("trigger_id")

        async def answer() -> dict[str, Any]:
            tr = await readers.of(client, user_id)
            try:
                found = await execute(
                    ctx,
                    steps,
                    parse(body.get("text", "")),
                    user_id=user_id,
                    trigger_id=trigger_id,
                    client=client,
                    tr=tr,
                    request_key=f"cmd:{trigger_id}" if trigger_id else None,
                    channel_id=body.get("channel_id"),
                )
            except UserError as exc:
                return refused(tr.say(exc.message), body.get("text", ""))
            found.pop(AGAIN, None)  # Slack retries a command it got no answer to: answer it
            return found

        result = await within(answer())
        if isinstance(result, dict):
            await ack(**result)
            return
        # the database is slow: answer when it is done
        tr = readers.known(user_id)
        await ack(text=tr("Working on it…"))
        after_answer(
            _answer_later(respond, tr, f"/ticket {typed(body.get('text', ''))}".rstrip(), result)
        )


def refused(why: str, text: str) -> dict[str, Any]:
    """The answer to a refused or bad command: why, and when it carried words of its own (a
    note, a cause, a plan…), the command as typed, to mend and send again."""
    _, after_verb = first_word(text)
    if not first_word(after_verb)[1].strip():  # a verb and a ticket number: nothing to lose
        return {"text": why}
    return {"text": why, "blocks": given_back(why, [("", f"/ticket {typed(text)}".rstrip())])}


async def _answer_later(
    respond: AsyncRespond, tr: Translator, typed: str, answer: Awaitable[dict[str, Any]]
) -> None:
    """The command's answer once its work is done; when the work failed (the database away
    for longer than a step waits), the command as typed, to send again."""
    try:
        reply = await answer
    except Exception:
        log.exception("a command failed after its answer")
        headline = tr(NOT_DONE)
        reply = {"text": headline, "blocks": given_back(headline, [("", typed)])}
    await respond(response_type="ephemeral", replace_original=True, **reply)


async def _share_later(
    ctx: Context,
    client: AsyncWebClient,
    tr: Translator,
    review: Review,
    channel: str,
    user_id: str,
) -> None:
    """The review's chart and CSV into the channel the manager asked in (its comment in the
    workspace's language: the channel reads it); a failure is told to the manager in theirs
    (``tr``; the figures reached them already)."""
    try:
        await share_files(ctx, client, review, channel)
    except Exception as error:  # told to the manager, whatever it was
        log.warning("review files not shared in %s: %s", channel, error, exc_info=True)
        problem = error.response.get("error") if isinstance(error, SlackApiError) else error
        await client.chat_postEphemeral(
            channel=channel,
            user=user_id,
            text=tr(
                "The chart and the CSV of %(month)s could not be shared here: %(problem)s",
                month=str(review.month),
                problem=str(problem),
            ),
        )
