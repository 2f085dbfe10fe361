"""The service plan's buttons and forms: Done, Skip (with a reason), the survey."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.services import plan
from bot.services.context import Context
from bot.services.plan import Closed
from bot.services.readers import Readers
from bot.slack.blocks import TITLE_MAX, mrkdwn, plain
from bot.slack.i18n import Translator
from bot.slack.plan_blocks import PlanAction, PlanForm, skip_modal, survey_modal

log = logging.getLogger(__name__)


def _task_id(body: dict[str, Any]) -> int:
    value = str(body["actions"][0].get("value", ""))
    if not value.isdigit():
        raise UserError("That button does not name a service-plan task.")
    return int(value)


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The conversation and ts of the message whose button was pressed."""
    return body.get("channel", {}).get("id"), body.get("message", {}).get("ts")


def _metadata(view: dict[str, Any]) -> tuple[int, str | None, str | None]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
        return int(data["task"]), data.get("channel"), data.get("ts")
    except (KeyError, TypeError, ValueError):
        raise UserError("This form lost its task; open it again.") from None


def _value(view: dict[str, Any], block: str) -> Any:
    return view["state"]["values"].get(block, {}).get("value", {})


async def _say(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def _update(
    readers: Readers,
    client: AsyncWebClient,
    pressed: tuple[str | None, str | None, str],
    closed: Closed,
) -> None:
    """Every message that asked the task (the one pressed, and the copies others got) says
    what became of it and loses its buttons, each in the language of the one it went to."""
    channel, ts, presser = pressed
    copies = list(closed.messages)
    if channel and ts and (channel, ts) not in {(c, t) for c, t, _ in copies}:
        copies.append((channel, ts, presser))
    for channel, ts, reader in copies:
        text, blocks = closed.message(await readers.of(client, reader))
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as error:  # the record is kept; that message just stays
            log.warning("plan message not updated: %s", error.response.get("error"))


def _done_view(tr: Translator, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(tr("Done"), TITLE_MAX),
        "close": plain(tr("Close"), TITLE_MAX),
        "blocks": [{"type": "section", "text": mrkdwn(text)}],
    }


def register(app: AsyncApp, ctx: Context, readers: Readers) -> None:
    @app.action(PlanAction.DONE.value)
    async def done_pressed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user = body["user"]["id"]
        click = body.get("trigger_id") or body["actions"][0].get("action_ts")
        try:
            closed = await plan.done(
                ctx, _task_id(body), user, request_key=f"plan:{click}:{user}" if click else None
            )
        except UserError as exc:
            tr = await readers.of(client, user)
            await _say(respond, tr.say(exc.message))
            return
        if closed is None:  # Slack's retry of the click: done and answered the first time
            return
        await _update(readers, client, (*_where(body), user), closed)

    @app.action(PlanAction.SKIP.value)
    async def skip_pressed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        tr = readers.known(body["user"]["id"])  # the form opens within the trigger's time
        try:
            task = await plan.may_close(ctx, _task_id(body), body["user"]["id"])
        except UserError as exc:
            await _say(respond, tr.say(exc.message))
            return
        await client.views_open(
            trigger_id=body["trigger_id"], view=skip_modal(tr, task.id, *_where(body))
        )

    @app.action(PlanAction.SURVEY.value)
    async def survey_pressed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        tr = readers.known(body["user"]["id"])  # the form opens within the trigger's time
        try:
            task = await plan.survey_of(ctx, _task_id(body), body["user"]["id"])
        except UserError as exc:
            await _say(respond, tr.say(exc.message))
            return
        view = survey_modal(tr, task.id, task.customer, *_where(body))
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(PlanForm.SKIP.value)
    async def skip_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])
        reason = _value(view, "reason").get("value") or ""
        try:
            task_id, channel, ts = _metadata(view)
            closed = await plan.skip(ctx, task_id, body["user"]["id"], reason)
        except UserError as exc:
            await ack(response_action="errors", errors={"reason": tr.say(exc.message)})
            return
        done = _done_view(tr, tr("Skipped; the reason is recorded."))
        await ack(response_action="update", view=done)
        await _update(readers, client, (channel, ts, body["user"]["id"]), closed)

    @app.view(PlanForm.SURVEY.value)
    async def survey_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])
        selected = _value(view, "rating").get("selected_option") or {}
        if not str(selected.get("value", "")).isdigit():
            await ack(response_action="errors", errors={"rating": tr("Pick 1 to 5.")})
            return
        comment = _value(view, "comment").get("value") or ""
        try:
            task_id, channel, ts = _metadata(view)
            closed = await plan.answer_survey(
                ctx,
                task_id,
                body["user"]["id"],
                rating=int(selected["value"]),
                comment=comment,
            )
        except UserError as exc:
            await ack(response_action="errors", errors={"rating": tr.say(exc.message)})
            return
        done = _done_view(tr, tr("Thank you for your answer."))
        await ack(response_action="update", view=done)
        await _update(readers, client, (channel, ts, body["user"]["id"]), closed)
