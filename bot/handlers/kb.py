"""`/kb`: search the knowledge base, write articles (add, edit, retire), and show an entry."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.kb import BadQuery, EntryKind, EntryRef, article_errors, parse_ref, parse_token
from bot.errors import UserError
from bot.services import kb
from bot.services.context import Context
from bot.services.readers import Readers
from bot.slack import kb as kb_blocks
from bot.slack.delivered import typed
from bot.slack.i18n import Translator
from bot.slack.kb import KbAction, Shown
from bot.slack.ticket_parser import first_word

log = logging.getLogger(__name__)

LINK_WAIT = 1.0  # seconds a search waits for Slack's permalinks before it answers without
_LINKS_KEPT = 10_000
# Permalinks never change: kept per Slack API (tests run several stand-ins) and message.
_links: dict[tuple[str, str, str], str] = {}


async def _permalink(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    key = (str(client.base_url), channel, ts)
    if key in _links:
        return _links[key]
    try:
        found = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except (SlackApiError, SlackClientError, OSError, TimeoutError):
        return None
    link = found.get("permalink")
    if not isinstance(link, str):
        return None
    if len(_links) >= _LINKS_KEPT:
        _links.pop(next(iter(_links)))
    _links[key] = link
    return link


async def shown(client: AsyncWebClient, matches: Sequence[kb.Match]) -> list[Shown]:
    """The matches with the permalinks of their ticket messages (where Slack gives one soon)."""
    wanted = [m.location for m in matches if m.location is not None]
    links: dict[tuple[str, str], str | None] = {}
    if wanted:
        try:
            found = await asyncio.wait_for(
                asyncio.gather(*(_permalink(client, ch, ts) for ch, ts in wanted)), LINK_WAIT
            )
            links = dict(zip(wanted, found, strict=True))
        except TimeoutError:
            links = {}
    return [Shown(m.entry, links.get(m.location) if m.location else None) for m in matches]


async def answer(
    ctx: Context, client: AsyncWebClient, tr: Translator, body: dict[str, Any]
) -> dict[str, Any]:
    """The ephemeral answer to ``/kb …`` (and the form it opens, if any), in the language of
    the one who asked (``tr``)."""
    text = typed(str(body.get("text") or "")).strip()
    user_id = str(body["user_id"])
    verb, rest = first_word(text)
    verb, rest = verb.lower(), rest.strip()
    if verb == "help" and not rest:  # `/kb help desk login` looks for those words
        return {"text": tr(kb_blocks.HELP)}
    if verb == "add":
        kb.may_write(ctx, user_id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=kb_blocks.article_modal(tr, title=rest)
        )
        return {"text": tr("Write the article in the form.")}
    if verb in ("edit", "retire"):
        ref = parse_ref(rest)
        if ref is None or (verb == "edit" and ref.kind is not EntryKind.ARTICLE):
            if verb == "edit":
                raise UserError("Name the entry: `/kb edit KB-3`.")
            raise UserError("Name the entry: `/kb retire KB-3` or `/kb retire #12`.")
        if verb == "edit":
            entry = await kb.article_to_edit(ctx, user_id=user_id, number=ref.number)
            await client.views_open(
                trigger_id=body["trigger_id"], view=kb_blocks.article_modal(tr, entry)
            )
            return {"text": tr("Edit %(ref)s in the form.", ref=str(ref))}
        retired = await kb.retire(ctx, user_id=user_id, ref=ref)
        return {
            "text": tr(
                "%(ref)s is retired: searches and report forms no longer show it.",
                ref=str(retired.ref),
            )
        }
    try:
        matches = await kb.search(ctx, text)
    except BadQuery as bad:
        return {"text": kb_blocks.query_problem(tr, bad.problem)}
    found = await shown(client, matches)
    return {
        "text": kb_blocks.search_text(tr, found),
        "blocks": kb_blocks.search_results(tr, text, found),
    }


def _form_value(view: dict[str, Any], block: str) -> str:
    value = view["state"]["values"].get(block, {}).get("value", {}).get("value")
    return value.strip() if isinstance(value, str) else ""


def register(app: AsyncApp, ctx: Context, readers: Readers) -> None:
    @app.command("/kb")
    async def kb_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        # Only the person reads the answer: their own language (Slack is given at most
        # readers.ASK_WITHIN to say it; then the workspace's, while the cache fills).
        tr = await readers.of(client, str(body["user_id"]))
        try:
            reply = await answer(ctx, client, tr, body)
        except UserError as exc:
            reply = {"text": tr.say(exc.message)}
        await ack(**reply)

    @app.view(KbAction.ARTICLE_FORM.value)
    async def article_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body["view"]
        tr = readers.known(body["user"]["id"])
        title, problem, answer_text = (
            _form_value(view, key) for key in ("title", "problem", "answer")
        )
        errors = article_errors(title=title, problem=problem, answer=answer_text)
        if errors:
            await ack(response_action="errors", errors=kb_blocks.article_errors_text(tr, errors))
            return
        number = json.loads(view.get("private_metadata") or "{}").get("number")
        user_id = body["user"]["id"]
        try:
            if isinstance(number, int):
                entry = await kb.edit_article(
                    ctx,
                    user_id=user_id,
                    number=number,
                    title=title,
                    problem=problem,
                    answer=answer_text,
                )
            else:
                entry = await kb.add_article(
                    ctx,
                    user_id=user_id,
                    title=title,
                    problem=problem,
                    answer=answer_text,
                    request_key=f"kb-article:{view['id']}",
                )
        except UserError as exc:
            await ack(response_action="errors", errors={"title": tr.say(exc.message)})
            return
        await ack(
            response_action="update",
            view=kb_blocks.article_saved(tr, entry, edited=isinstance(number, int)),
        )

    @app.action(KbAction.OPEN.value)
    async def open_entry(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        tr = await readers.of(client, body["user"]["id"])
        ref = await button_ref(client, body, tr)
        if ref is None:
            return
        try:
            entry = await kb.entry(ctx, ref)
        except UserError as exc:  # a button made by hand, or a database restored from before
            await over_button(client, body, kb_blocks.missing_view(tr, tr.say(exc.message)))
            return
        location = None
        if entry.kind is EntryKind.TICKET:
            location = await kb.ticket_location(ctx, entry.number)
        (one,) = await shown(client, [kb.Match(entry, location)])
        await over_button(client, body, kb_blocks.entry_view(tr, one))


async def button_ref(
    client: AsyncWebClient, body: dict[str, Any], tr: Translator
) -> EntryRef | None:
    """The entry a knowledge-base button names; None, said to the one who pressed it, when its
    value names none (a button made by hand)."""
    ref = parse_token(str(body["actions"][0].get("value", "")))
    if ref is None:
        problem = tr("That button does not name a knowledge-base entry.")
        await over_button(client, body, kb_blocks.missing_view(tr, problem))
    return ref


async def over_button(client: AsyncWebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open ``view`` for the one who pressed a button: over the form it is in, or alone."""
    if body.get("view", {}).get("type") == "modal":
        await client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        await client.views_open(trigger_id=body["trigger_id"], view=view)
