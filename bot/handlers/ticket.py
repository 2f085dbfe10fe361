"""`/ticket`: steps on tickets and the read-only views (show, list, report, help)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.handlers.ack_window import within
from bot.handlers.background import after_answer
from bot.handlers.kb import shown
from bot.services import kb, queries
from bot.services.context import Context
from bot.services.steps import StepIntake, StepRequest, may
from bot.slack import ticket_card as blocks_ticket
from bot.slack.kb import related_blocks
from bot.slack.ticket_parser import TicketCommand, help_text, parse
from bot.slack.views import list_blocks, report_blocks, show_blocks

AGAIN = "again"  # in an answer: the same request was answered before
MESSAGE_BLOCKS_MAX = 50  # Slack's limit of blocks in a message

LIST_TITLES = {
    "open": "Open tickets",
    "mine": "Your tickets",
    "breaching": "Tickets overdue or due within the hour",
}


async def execute(
    ctx: Context,
    steps: StepIntake,
    command: TicketCommand,
    *,
    user_id: str,
    trigger_id: str | None,
    client: AsyncWebClient,
    request_key: str | None = None,
) -> dict[str, Any]:
    """Run a parsed command; returns the ephemeral answer (``text`` and maybe ``blocks``)."""
    now = ctx.clock.now()
    if command.verb == "help":
        return {"text": help_text()}
    if command.verb == "show":
        assert command.number is not None
        view = await queries.show(ctx, command.number)
        shown_blocks = show_blocks(view, now)
        if ctx.config.is_engineer(user_id) or ctx.config.is_manager(user_id):
            related = related_blocks(await shown(client, await kb.related(ctx, view.ticket)))
            if len(shown_blocks) + len(related) <= MESSAGE_BLOCKS_MAX:
                shown_blocks += related
        return {"text": f"{view.ticket.ref}", "blocks": shown_blocks}
    if command.verb == "list":
        items = await queries.list_tickets(ctx, choice=command.argument, user_id=user_id)
        title = LIST_TITLES.get(command.argument, f"Open class {command.argument} tickets")
        return {"text": title, "blocks": list_blocks(items, now, title)}
    if command.verb == "report":
        if not ctx.config.is_manager(user_id):
            raise UserError("Only a manager can read the monthly report.")
        report = await queries.monthly_report(ctx, command.argument)
        return {"text": f"Support report {report.month}", "blocks": report_blocks(report)}
    assert command.number is not None and command.step is not None
    if command.verb == "resolve":
        ticket = await may(ctx, number=command.number, step=command.step, user_id=user_id)
        if trigger_id is None:
            raise UserError("Use the Resolve button or `/ticket resolve N` to open the checklist.")
        await client.views_open(
            trigger_id=trigger_id,
            view=blocks_ticket.checklist_modal(ticket, command.step.text),
        )
        return {"text": f"Fill in the maintenance checklist to resolve {ticket.ref}."}
    outcome = await steps.run(
        StepRequest(command.number, command.step, user_id, request_key=request_key)
    )
    if outcome.change is None:  # Slack's retry of a request handled before
        return {"text": outcome.reply, AGAIN: True}
    return {"text": outcome.reply}


def register(app: AsyncApp, ctx: Context, steps: StepIntake) -> None:
    @app.command("/ticket")
    async def ticket_command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        user_id = body["user_id"]
        trigger_id = body.get("trigger_id")

        async def answer() -> dict[str, Any]:
            try:
                found = await execute(
                    ctx,
                    steps,
                    parse(body.get("text", "")),
                    user_id=user_id,
                    trigger_id=trigger_id,
                    client=client,
                    request_key=f"cmd:{trigger_id}" if trigger_id else None,
                )
            except UserError as exc:
                return {"text": str(exc)}
            found.pop(AGAIN, None)  # Slack retries a command it got no answer to: answer it
            return found

        result = await within(answer())
        if isinstance(result, dict):
            await ack(**result)
            return
        await ack(text="Working on it…")  # the database is slow: answer when it is done
        after_answer(_answer_later(respond, result))


async def _answer_later(respond: AsyncRespond, answer: Awaitable[dict[str, Any]]) -> None:
    await respond(response_type="ephemeral", replace_original=True, **(await answer))
