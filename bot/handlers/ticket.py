"""`/ticket`: steps on tickets and the read-only views (show, list, report, help)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.workflow import Duty, check_duty
from bot.errors import UserError
from bot.handlers.ack_window import within
from bot.handlers.background import after_answer
from bot.handlers.readers import Readers
from bot.services import queries
from bot.services.context import Context
from bot.services.steps import StepIntake, StepRequest, may
from bot.slack import ticket_card as blocks_ticket
from bot.slack.i18n import N_, Translator
from bot.slack.ticket_parser import TicketCommand, help_text, parse
from bot.slack.views import list_blocks, report_blocks, show_blocks

AGAIN = "again"  # in an answer: the same request was answered before

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
) -> dict[str, Any]:
    """Run a parsed command; returns the ephemeral answer (``text`` and maybe ``blocks``) in
    the language of the one who asked (``tr``)."""
    now = ctx.clock.now()
    if command.verb == "help":
        return {"text": help_text(tr)}
    if command.verb == "show":
        assert command.number is not None
        view = await queries.show(ctx, command.number)
        return {"text": f"{view.ticket.ref}", "blocks": show_blocks(view, now, tr)}
    if command.verb == "list":
        items = await queries.list_tickets(ctx, choice=command.argument, user_id=user_id)
        if command.argument in LIST_TITLES:
            title = tr(LIST_TITLES[command.argument])
        else:
            title = tr("Open class %(severity)s tickets", severity=command.argument)
        return {"text": title, "blocks": list_blocks(tr, items, now, title)}
    if command.verb == "report":
        check_duty(Duty.READ_REPORT, ctx.actor(user_id))
        report = await queries.monthly_report(ctx, command.argument)
        text = tr("Support report %(month)s", month=report.month)
        return {"text": text, "blocks": report_blocks(report)}
    assert command.number is not None and command.step is not None
    if command.verb == "resolve":
        ticket = await may(ctx, number=command.number, step=command.step, user_id=user_id)
        if trigger_id is None:
            raise UserError("Use the Resolve button or `/ticket resolve N` to open the checklist.")
        await client.views_open(
            trigger_id=trigger_id,
            view=blocks_ticket.checklist_modal(ticket, command.step.text),
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
                )
            except UserError as exc:
                return {"text": tr.say(exc.message)}
            found.pop(AGAIN, None)  # Slack retries a command it got no answer to: answer it
            return found

        result = await within(answer())
        if isinstance(result, dict):
            await ack(**result)
            return
        # the database is slow: answer when it is done
        tr = readers.known(user_id)
        await ack(text=tr("Working on it…"))
        after_answer(_answer_later(respond, result))


async def _answer_later(respond: AsyncRespond, answer: Awaitable[dict[str, Any]]) -> None:
    await respond(response_type="ephemeral", replace_original=True, **(await answer))
