"""Intake: /report, the "Report a problem" shortcut, mentions, and the report modal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.tickets import DETAILS_MAX, ReportDraft, Ticket, report_errors
from bot.domain.triage import QUESTIONS, classify
from bot.errors import UserError
from bot.handlers.ack_window import within
from bot.handlers.background import after_answer
from bot.handlers.forms import ReportForm, read_report_form
from bot.handlers.kb import button_ref, over_button, shown
from bot.metrics import Metrics
from bot.services import kb
from bot.services.context import Context
from bot.services.intake import ReportIntake, ReportOutcome
from bot.services.readers import Readers
from bot.services.steps import kept_text
from bot.slack import kb as kb_blocks
from bot.slack import report_form
from bot.slack.blocks import View
from bot.slack.delivered import typed, unnamed_people
from bot.slack.i18n import Translator
from bot.slack.ids import Action, Callback

log = logging.getLogger(__name__)
OFFER = "offer"  # in the report form's metadata: the response_url of the offer it came from
OFFERED = "kb"  # in the form's metadata: the entries offered under the summary


async def _report_view(
    ctx: Context,
    client: AsyncWebClient,
    tr: Translator,
    form: ReportForm,
    matches: list[kb.Match] | None = None,
) -> View:
    """The report form with the knowledge base's matches for its summary (or, before one is
    typed, for the text it was opened with) under the summary."""
    if matches is None:
        matches = await kb.offer_soon(ctx, form.summary or form.details)
    found = await shown(client, matches)
    metadata = {k: v for k, v in form.metadata.items() if k != OFFERED}
    if found:
        metadata[OFFERED] = [s.entry.ref.token for s in found]
    return report_form.report_modal(
        tr,
        summary=form.summary,
        details=form.details,
        system=form.system,
        answers=form.answers,
        metadata=metadata,
        under_summary=kb_blocks.offer_blocks(tr, found),
    )


def _opening(summary: str, details: str, metadata: dict[str, Any]) -> ReportForm:
    return ReportForm(summary, details, "", (), metadata)


async def _from_message(
    readers: Readers,
    client: AsyncWebClient,
    reader: str,
    text: str,
    metadata: dict[str, Any],
    files: Sequence[Mapping[str, Any]] = (),
) -> tuple[Translator, ReportForm]:
    """The form ``reader`` opens on a message (its text as Slack delivers it, and the files
    shared with it), and their language (asked of Slack together with the names of the
    people the message mentions): the summary its first line (cut to fit), the details all
    of it, as typed, the people it mentions by name, and the files by name and link, so it
    can be sent as it opens (a message longer than the details hold: its beginning, and the
    form says so)."""
    tr, names = await asyncio.gather(
        readers.of(client, reader), readers.names(client, unnamed_people(text))
    )
    whole = typed(text, names).strip()
    shared = report_form.files_line(tr, files)
    whole = f"{whole}\n\n{shared}".strip() if shared else whole
    if len(whole) > DETAILS_MAX:
        metadata = {**metadata, report_form.CUT_FROM: len(whole)}
    return tr, _opening(*report_form.report_from_text(whole), metadata)


def register(
    app: AsyncApp, ctx: Context, metrics: Metrics, intake: ReportIntake, readers: Readers
) -> None:
    # The submission first: Bolt tries listeners in the order they are registered.
    @app.view(Callback.REPORT)
    async def submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])  # the form's answer cannot wait on Slack
        form = read_report_form(view)
        found = report_errors(summary=form.summary, details=form.details, system=form.system)
        errors = {block: tr.say(problem) for block, problem in found.items()}
        severity = classify(form.answers)
        if severity is None:
            unanswered = QUESTIONS[len(form.answers)]
            errors[report_form.question_block_id(unanswered)] = tr("Please answer this question.")
        if errors or severity is None:
            await ack(response_action="errors", errors=errors)
            return
        channel = form.metadata.get("channel")
        draft = ReportDraft(
            summary=form.summary,
            details=form.details,
            system=form.system,
            severity=severity,
            reporter_id=body["user"]["id"],
            origin_channel=channel if isinstance(channel, str) else None,
        )
        result = await within(intake.store(draft, f"view:{view['id']}"))
        if not isinstance(result, ReportOutcome):
            # The database is slow or away: the report is being stored (tried again while
            # the database is away); the reporter gets the number by direct message, or,
            # should it never be stored, what they wrote.
            await ack(response_action="update", view=report_form.report_pending(tr))
            offer = form.metadata.get(OFFER)
            after_answer(
                _count_when_stored(
                    metrics, tr, client, draft, result, offer if isinstance(offer, str) else None
                )
            )
            return
        outcome = result
        if outcome.created:
            metrics.tickets_reported.labels(severity=severity.value).inc()
        ticket = outcome.ticket
        schedule = ctx.schedule(ticket)
        offer = form.metadata.get(OFFER)
        if isinstance(offer, str):
            after_answer(_offer_used(tr, offer, ticket))
        await ack(
            response_action="update",
            view=report_form.report_confirmation(
                tr, ticket, schedule.as_dict(), ctx.clock.now(), schedule.provisional_names
            ),
        )

    @app.command("/report")
    async def open_from_command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        text = typed(body.get("text", "")).strip()
        summary, details = report_form.report_from_command(text)
        form = _opening(summary, details, {"channel": body.get("channel_id")})
        tr = await readers.of(client, body["user_id"])
        view = await _report_view(ctx, client, tr, form)
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except (SlackClientError, OSError, TimeoutError) as error:
            # Slack was slow (the trigger expired) or away: what was typed is not lost
            log.warning("the report form was not opened: %s", error)
            await respond(
                text=tr("The report form could not be opened. Please try again."),
                blocks=report_form.report_not_opened(tr, text),
                response_type="ephemeral",
            )

    @app.shortcut(Callback.REPORT_SHORTCUT)
    async def open_from_message(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        message = body.get("message", {})
        metadata = {"channel": body.get("channel", {}).get("id")}
        tr, form = await _from_message(
            readers,
            client,
            body["user"]["id"],
            message.get("text", ""),
            metadata,
            [f for f in message.get("files") or () if isinstance(f, dict)],
        )
        view = await _report_view(ctx, client, tr, form)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(Action.REPORT_THIS)
    async def open_from_offer(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        text = await kept_text(ctx, str(body["actions"][0].get("value", "")))
        if text is None:
            tr = await readers.of(client, body["user"]["id"])
            await respond(
                text=tr("I no longer have the text of this offer: use `/report` to report it."),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        metadata = {"channel": body.get("channel", {}).get("id")}
        if body.get("response_url"):
            metadata[OFFER] = body["response_url"]  # replaced by the ticket's number once used
        # The same matches as the summary would get: the mention's text is the problem.
        tr, form = await _from_message(readers, client, body["user"]["id"], text, metadata)
        view = await _report_view(ctx, client, tr, form)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(Action.TRIAGE)
    async def answer_question(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        form = read_report_form(view)
        tr = await readers.of(client, body["user"]["id"])
        answered = await _report_view(ctx, client, tr, form)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=answered)
        except SlackApiError as error:
            if error.response.get("error") != "hash_conflict":
                raise
            # The summary's matches updated the form meanwhile; the answer must show (the
            # next question, or the class): the inputs keep what was typed, the matches
            # follow the next keystroke.
            await client.views_update(view_id=view["id"], view=answered)

    @app.action({"block_id": report_form.SUMMARY_BLOCK, "action_id": "value"})
    async def summary_typed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The summary as typed so far: the matches under it follow it."""
        await ack()
        view = body["view"]
        form = read_report_form(view)
        matches = await kb.offer_soon(ctx, form.summary or form.details)
        if [m.entry.ref.token for m in matches] == form.metadata.get(OFFERED, []):
            return  # the same matches: leave the form alone while the reporter types
        tr = await readers.of(client, body["user"]["id"])
        try:
            await client.views_update(
                view_id=view["id"],
                hash=view.get("hash"),
                view=await _report_view(ctx, client, tr, form, matches),
            )
        except SlackApiError as error:  # a newer keystroke updated the form first
            log.info("report form not updated: %s", error.response.get("error"))

    @app.action(kb_blocks.KbAction.SOLVED.value)
    async def solved(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The reporter's "This solved my problem": the report ends without a ticket, counted."""
        await ack()
        view = body["view"]
        tr = await readers.of(client, body["user"]["id"])
        ref = await button_ref(client, body, tr)
        if ref is None:
            return
        form = read_report_form(view)
        try:
            entry = await kb.solved_by(
                ctx,
                user_id=body["user"]["id"],
                ref=ref,
                summary=form.summary or form.details,
                request_key=f"kb:{view['id']}",
            )
        except UserError as exc:  # the form keeps what was typed; the answer goes over it
            await over_button(client, body, kb_blocks.missing_view(tr, tr.say(exc.message)))
            return
        await client.views_update(view_id=view["id"], view=kb_blocks.solved_view(tr, entry))
        offer = form.metadata.get(OFFER)
        if isinstance(offer, str):  # the "Report this" it came from says how it ended
            said = kb_blocks.offer_answered(tr, entry)
            after_answer(_replace_offer(offer, said, {"kb": str(entry.ref)}))


async def _count_when_stored(
    metrics: Metrics,
    tr: Translator,
    client: AsyncWebClient,
    draft: ReportDraft,
    stored: Awaitable[ReportOutcome],
    offer: str | None,
) -> None:
    try:
        outcome = await stored
    except asyncio.CancelledError:  # the service stops before the database took the report
        log.error("a report was not stored before the stop", extra={"user": draft.reporter_id})
        await _give_back(client, tr, draft, stopped=True)
        raise
    except Exception:
        log.exception("a report was not stored", extra={"user": draft.reporter_id})
        await _give_back(client, tr, draft)
        return
    if outcome.created:
        metrics.tickets_reported.labels(severity=outcome.ticket.severity.value).inc()
    if offer is not None:
        await _offer_used(tr, offer, outcome.ticket)


async def _give_back(
    client: AsyncWebClient, tr: Translator, draft: ReportDraft, *, stopped: bool = False
) -> None:
    """Tell the reporter their report was not stored, with what they wrote, to send again
    (``stopped``: the service stopped while the report waited for the database)."""
    try:
        await client.chat_postMessage(
            channel=draft.reporter_id,
            text=tr("Your report could not be saved."),
            blocks=report_form.report_not_stored(tr, draft, stopped=stopped),
        )
    except (SlackClientError, OSError, TimeoutError):
        # The last place the words are kept: the log.
        log.error(
            "the reporter was not told; their report: %r / %r / %r",
            draft.summary,
            draft.details,
            draft.system,
            extra={"user": draft.reporter_id},
        )


async def _offer_used(tr: Translator, response_url: str, ticket: Ticket) -> None:
    """Replace the "Report this" offer (an ephemeral message) with the ticket's number."""
    text = report_form.report_offer_used(tr, ticket)
    await _replace_offer(response_url, text, {"ticket": ticket.number})


async def _replace_offer(response_url: str, text: str, extra: dict[str, object]) -> None:
    """Replace the "Report this" offer (an ephemeral message) with how the report ended
    (``extra``: the ticket, or the knowledge-base entry that answered it, for the log)."""
    try:
        sent = await AsyncWebhookClient(response_url).send(text=text, replace_original=True)
        status = sent.status_code
    except (SlackClientError, OSError, TimeoutError):
        status = None
    if status != 200:  # the report ended all the same; only the offer stays as it was
        log.warning("the report offer was not replaced: %s", status, extra=extra)
