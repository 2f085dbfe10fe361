"""Buttons on ticket messages, pages and sign-off requests, and the forms they open."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.kb import KEEP_OUT
from bot.domain.tickets import Ticket
from bot.domain.workflow import Step
from bot.errors import UserError
from bot.handlers.ack_window import within
from bot.handlers.background import after_answer
from bot.services import queries
from bot.services.context import Context
from bot.services.readers import Readers
from bot.services.steps import StepIntake, StepOutcome, StepRequest, may, run_step
from bot.slack import ticket_card as blocks_ticket
from bot.slack.blocks import BUTTON_STEPS, TITLE_MAX, View, mrkdwn, plain
from bot.slack.i18n import N_, Translator
from bot.slack.ids import Action, Callback
from bot.slack.views import show_blocks

log = logging.getLogger(__name__)

SLOW_FORM = N_(
    "Saving takes longer than usual. What you typed is kept here: submit again in a moment."
)

Reply = Callable[[str], Awaitable[None]]
# Buttons that open the form of their step (BUTTON_STEPS: checked to be allowed first).
FORMS: dict[Action, Callable[[Translator, Ticket], View]] = {
    Action.RESOLVE: blocks_ticket.checklist_modal,
    Action.CONFIRM_YES: blocks_ticket.rating_modal,
    Action.DECLINE: blocks_ticket.decline_modal,
}
# The other buttons take their step on the ticket named by their value, with no form.
SIMPLE_STEPS = {action: step.verb for action, step in BUTTON_STEPS.items() if action not in FORMS}


def _number(body: dict[str, Any]) -> int:
    value = body["actions"][0].get("value", "")
    if not value.isdigit():
        raise UserError("That button does not name a ticket.")
    return int(value)


def _replier(body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> Reply:
    """Answer only the person who clicked: through response_url, or an ephemeral message."""

    async def reply(text: str) -> None:
        if body.get("response_url"):
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        channel = body.get("channel", {}).get("id")
        if channel:
            await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)

    return reply


def _action_key(body: dict[str, Any]) -> str:
    """One click: Slack's retry of it carries the same trigger id."""
    action = body["actions"][0]
    return f"act:{body.get('trigger_id') or action.get('action_ts')}:{body['user']['id']}"


def _metadata_ticket(view: dict[str, Any]) -> int:
    try:
        return int(json.loads(view.get("private_metadata") or "{}")["ticket"])
    except (KeyError, TypeError, ValueError):
        raise UserError("This form lost its ticket number; open it again.") from None


def _value(view: dict[str, Any], block: str) -> Any:
    return view["state"]["values"].get(block, {}).get("value", {})


def register(app: AsyncApp, ctx: Context, steps: StepIntake, readers: Readers) -> None:
    for action_id, verb in SIMPLE_STEPS.items():
        _register_simple(app, steps, readers, action_id, verb)
    for action_id, form in FORMS.items():
        _register_form(app, ctx, readers, action_id, BUTTON_STEPS[action_id], form)

    @app.action(Action.OPEN)
    async def open_button(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        after_answer(_show(ctx, readers, body, client, respond))

    # A form's answer cannot wait on Slack: its reader's language as last heard.
    @app.view(Callback.CHECKLIST)
    async def checklist_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])
        resolution = (_value(view, "resolution").get("value") or "").strip()
        if not resolution:
            await ack(response_action="errors", errors={"resolution": tr("Say what was done.")})
            return
        checked = [o["value"] for o in _value(view, "checklist").get("selected_options") or []]
        update_time = (_value(view, "update_time").get("value") or "").strip()
        kept_out = any(
            o.get("value") == blocks_ticket.KB_KEEP_OUT_VALUE
            for o in _value(view, blocks_ticket.KB_KEEP_OUT_BLOCK).get("selected_options") or []
        )
        await _submit_step(
            ack,
            ctx,
            tr,
            view,
            body,
            Step(
                "resolve",
                text=resolution,
                details=(
                    ("checklist", checked),
                    ("update_time", update_time),
                    (KEEP_OUT, kept_out),
                ),
            ),
        )

    @app.view(Callback.RATING)
    async def rating_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])
        selected = _value(view, "rating").get("selected_option") or {}
        if not str(selected.get("value", "")).isdigit():
            await ack(response_action="errors", errors={"rating": tr("Pick 1 to 5 stars.")})
            return
        comment = (_value(view, "comment").get("value") or "").strip()
        step = Step("confirm", rating=int(selected["value"]), text=comment)
        await _submit_step(ack, ctx, tr, view, body, step)

    @app.view(Callback.DECLINE)
    async def decline_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])
        reason = (_value(view, "reason").get("value") or "").strip()
        if not reason:
            await ack(response_action="errors", errors={"reason": tr("Say why it is declined.")})
            return
        await _submit_step(ack, ctx, tr, view, body, Step("decline", text=reason))


def _register_form(
    app: AsyncApp,
    ctx: Context,
    readers: Readers,
    action_id: str,
    step: Step,
    form: Callable[[Translator, Ticket], View],
) -> None:
    """A button that opens the form of a step, once the step is known to be allowed."""

    @app.action(action_id)
    async def open_form(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        # The form opens within the trigger's 3 seconds: the reader's language as last heard.
        tr = readers.known(body["user"]["id"])
        try:
            ticket = await may(ctx, number=_number(body), step=step, user_id=body["user"]["id"])
            await client.views_open(trigger_id=body["trigger_id"], view=form(tr, ticket))
        except UserError as exc:
            await _replier(body, respond, client)(tr.say(exc.message))


def _register_simple(
    app: AsyncApp, steps: StepIntake, readers: Readers, action_id: str, verb: str
) -> None:
    @app.action(action_id)
    async def simple_step(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        after_answer(_step(steps, readers, verb, body, client, _replier(body, respond, client)))


async def _step(
    steps: StepIntake,
    readers: Readers,
    verb: str,
    body: dict[str, Any],
    client: AsyncWebClient,
    reply: Reply,
) -> None:
    try:
        outcome = await steps.run(
            StepRequest(
                _number(body), Step(verb), body["user"]["id"], request_key=_action_key(body)
            )
        )
    except UserError as exc:
        tr = await readers.of(client, body["user"]["id"])
        await reply(tr.say(exc.message))
        return
    except Exception:  # the database away for longer than a step waits: say so
        log.exception("a button's step failed", extra={"user": body["user"]["id"]})
        tr = readers.known(body["user"]["id"])
        await reply(tr("This could not be done just now, and nothing changed. Please try again."))
        return
    if outcome.change is not None:  # not a retry of a click answered before
        tr = await readers.of(client, body["user"]["id"])
        await reply(tr.say(outcome.message))


async def _show(
    ctx: Context,
    readers: Readers,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    tr = await readers.of(client, body["user"]["id"])
    try:
        view = await queries.show(ctx, _number(body))
    except UserError as exc:
        await _replier(body, respond, client)(tr.say(exc.message))
        return
    if body.get("response_url"):
        await respond(
            text=view.ticket.ref,
            blocks=show_blocks(view, ctx.clock.now(), tr),
            response_type="ephemeral",
            replace_original=False,
        )


async def _submit_step(
    ack: AsyncAck,
    ctx: Context,
    tr: Translator,
    view: dict[str, Any],
    body: dict[str, Any],
    step: Step,
) -> None:
    """Run the step a form asked for; a refusal shows as an error on the form's first input."""
    first_input = next(b["block_id"] for b in view["blocks"] if b["type"] == "input")
    work = run_step(
        ctx,
        number=_metadata_ticket(view),
        step=step,
        user_id=body["user"]["id"],
        request_key=f"view:{view['id']}",
    )
    try:
        outcome = await within(work)
    except UserError as exc:
        await ack(response_action="errors", errors={first_input: tr.say(exc.message)})
        return
    if not isinstance(outcome, StepOutcome):
        # The database is slow: the form stays open with what was typed; the step goes on,
        # and the form's request key makes a second submit apply it once.
        after_answer(outcome)
        await ack(response_action="errors", errors={first_input: tr(SLOW_FORM)})
        return
    await ack(
        response_action="update",
        view={
            "type": "modal",
            "title": plain(tr("Done"), TITLE_MAX),
            "close": plain(tr("Close"), TITLE_MAX),
            "blocks": [{"type": "section", "text": mrkdwn(tr.say(outcome.message))}],
        },
    )
