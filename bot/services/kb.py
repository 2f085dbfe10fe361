"""Use cases of the knowledge base (SPEC §6 `/kb`): search, the matches a report is offered,
articles (add, edit, retire, import, export), resolved tickets joining it, and reports it
answered at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.kb import (
    OFFER_LIMIT,
    PAIRS_PER_CHARACTER,
    SEARCH_LIMIT,
    Entry,
    EntryKind,
    EntryRef,
    joins_knowledge_base,
    lone_characters,
    named_ref,
    offer_terms,
    query_terms,
    with_pairs,
)
from bot.domain.kb_markdown import ArticleFile, file_name, render_article
from bot.domain.review import parse_month
from bot.domain.tickets import Ticket
from bot.domain.workflow import Change
from bot.errors import UserError
from bot.services import review
from bot.services.context import Context
from bot.services.kb_search import Match as Match  # the handlers' name for a match
from bot.services.kb_search import Search, run_searches
from storage import kb as kb_store
from storage.kb import EntryText
from storage.requests import first_time, replies_for
from storage.unavailable import transient

log = logging.getLogger(__name__)

ANSWERED_KINDS = ("resolve",)  # steps after which a ticket joins (or rejoins) the base
LEAVING_KINDS = ("reopen", "reject")  # steps after which its fix is no longer known good
# Seconds the report form waits for its matches: it must open within Slack's 3 seconds.
OFFER_WAIT = 1.0


async def _matches(
    ctx: Context, terms: Sequence[str], limit: int, *, strict: bool, skip: EntryRef | None = None
) -> list[Match]:
    """The best entries for the terms (see :class:`bot.services.kb_search.Search`), in the
    bot's batch of searches (without one, as in the command line's: on a read of its own)."""
    if not terms:
        return []
    search = Search(tuple(terms), limit, strict, skip)
    if ctx.kb_searches is None:
        (found,) = await run_searches(ctx.db, [search])
        return found
    return await ctx.kb_searches.submit(search)


async def search(ctx: Context, text: str) -> list[Match]:
    """``/kb words``: up to five entries, best first (``/kb KB-3``, ``/kb #12``: that entry).
    A bad search raises
    :class:`bot.domain.kb.BadQuery` and reads nothing."""
    terms = query_terms(text)
    named = named_ref(text)
    if named is not None:  # `/kb KB-3`, `/kb #12`: that entry, when it is in use
        async with ctx.db.read() as conn:
            found = await kb_store.get_entry(conn, named)
            if found is not None and not found.retired:
                where = await kb_store.ticket_locations(
                    conn, [found.number] if found.kind is EntryKind.TICKET else []
                )
                return [Match(found, where.get(found.number))]
    lone = lone_characters(terms)
    if lone:  # 卡 alone: the index holds 很卡 and 卡顿, not 卡
        async with ctx.db.read() as conn:
            pairs = await kb_store.pairs_holding(conn, lone, PAIRS_PER_CHARACTER)
        terms = with_pairs(terms, pairs)
    return await _matches(ctx, terms, SEARCH_LIMIT, strict=False)


async def offer(ctx: Context, text: str) -> list[Match]:
    """What the report form offers under the summary: up to three, none for a bad text."""
    return await _matches(ctx, offer_terms(text), OFFER_LIMIT, strict=True)


async def offer_soon(ctx: Context, text: str, *, within: float = OFFER_WAIT) -> list[Match]:
    """:func:`offer`, or none when the database does not answer within ``within`` seconds or
    is away: the report form opens, and asks its questions, without the matches (what was
    typed and answered is stored when the form is sent; see :mod:`bot.services.patience`)."""
    task = asyncio.ensure_future(offer(ctx, text))
    done, _ = await asyncio.wait({task}, timeout=within)
    if task not in done:
        task.add_done_callback(_unwanted)
        log.warning("the report form's matches took too long: the form goes without them")
        return []
    error = task.exception()
    if error is None:
        return task.result()
    if not transient(error):
        raise error
    log.warning(
        "the report form's matches could not be read (%s): the form goes without them",
        type(error).__name__,
    )
    return []


def _unwanted(task: asyncio.Task[list[Match]]) -> None:
    """A late search's outcome, taken so that its failure is not reported as unretrieved."""
    if not task.cancelled():
        task.exception()


async def related(ctx: Context, ticket: Ticket) -> list[Match]:
    """Solved problems like this ticket (for an engineer's `/ticket show`), not itself."""
    terms = offer_terms(f"{ticket.summary}\n{ticket.details}")
    skip = EntryRef(EntryKind.TICKET, ticket.number)
    return await _matches(ctx, terms, OFFER_LIMIT, strict=True, skip=skip)


async def entry(ctx: Context, ref: EntryRef) -> Entry:
    async with ctx.db.read() as conn:
        found = await kb_store.get_entry(conn, ref)
    if found is None:
        raise UserError("There is no knowledge-base entry %(ref)s.", ref=str(ref))
    return found


def may_write(ctx: Context, user_id: str) -> None:
    """Refuse (UserError) someone who may not add, edit or retire entries."""
    if not (ctx.config.is_engineer(user_id) or ctx.config.is_manager(user_id)):
        raise UserError("Only engineers and managers write the knowledge base.")


class _AddedBefore(Exception):
    """The request that asked for an article was acted on before (Slack's retry)."""


async def add_article(
    ctx: Context,
    *,
    user_id: str,
    title: str,
    problem: str,
    answer: str,
    request_key: str | None = None,
) -> Entry:
    """A new article. ``request_key`` (the form's view): Slack's retry of the same submit,
    or a second click, gets the article the first one wrote, not another (SPEC §8)."""
    may_write(ctx, user_id)
    now = ctx.clock.now()
    try:
        async with ctx.db.write() as conn:
            number = await kb_store.take_article_number(conn)
            # On PostgreSQL a second submit at the same moment waits here for the first to
            # commit, then finds its key: it rolls back (its number too) and answers with it.
            if request_key is not None and not await first_time(
                conn, request_key, now=now, reply=str(number)
            ):
                raise _AddedBefore
            return await kb_store.put_entry(
                conn,
                EntryRef(EntryKind.ARTICLE, number),
                EntryText(title.strip(), problem.strip(), "", answer.strip()),
                author_id=user_id,
                now=now,
            )
    except _AddedBefore:
        assert request_key is not None
        async with ctx.db.read() as conn:
            added = (await replies_for(conn, [request_key]))[request_key]
        return await entry(ctx, EntryRef(EntryKind.ARTICLE, int(added)))


async def article_to_edit(ctx: Context, *, user_id: str, number: int) -> Entry:
    may_write(ctx, user_id)
    return await entry(ctx, EntryRef(EntryKind.ARTICLE, number))


async def edit_article(
    ctx: Context, *, user_id: str, number: int, title: str, problem: str, answer: str
) -> Entry:
    may_write(ctx, user_id)
    ref = EntryRef(EntryKind.ARTICLE, number)
    async with ctx.db.write() as conn:
        if await kb_store.get_entry(conn, ref) is None:
            raise UserError("There is no knowledge-base entry %(ref)s.", ref=str(ref))
        return await kb_store.put_entry(
            conn,
            ref,
            EntryText(title.strip(), problem.strip(), "", answer.strip()),
            author_id=user_id,
            now=ctx.clock.now(),
        )


async def retire(ctx: Context, *, user_id: str, ref: EntryRef) -> Entry:
    """Take an article or a solved ticket out of searches and offers."""
    may_write(ctx, user_id)
    async with ctx.db.write() as conn:
        found = await kb_store.get_entry(conn, ref)
        if found is None:
            raise UserError("There is no knowledge-base entry %(ref)s.", ref=str(ref))
        if found.retired:
            raise UserError("%(ref)s is retired already.", ref=str(ref))
        await kb_store.retire(conn, ref, by=user_id, now=ctx.clock.now())
    return found


async def solved_by(
    ctx: Context, *, user_id: str, ref: EntryRef, summary: str, request_key: str
) -> Entry:
    """The reporter says ``ref`` solved their problem: the report ends without a ticket and
    counts as answered at once. A retry of the same click is counted once."""
    async with ctx.db.write() as conn:
        found = await kb_store.get_entry(conn, ref)
        if found is None:
            raise UserError("There is no knowledge-base entry %(ref)s.", ref=str(ref))
        counted = await kb_store.record_answer(
            conn,
            request_key=request_key,
            user_id=user_id,
            ref=ref,
            summary=summary[:3000],
            now=ctx.clock.now(),
        )
    if counted:
        log.info("report answered at once by %s", ref, extra={"user": user_id})
    return found


async def answered_at_once(ctx: Context, month: str) -> int:
    """Problems answered at once by the knowledge base in ``month`` (YYYY-MM, local time; empty
    = this month): reports that ended with "This solved my problem" (the month's review)."""
    start, end = review.bounds(ctx, parse_month(month) if month else review.this_month(ctx))
    async with ctx.db.read() as conn:
        return await kb_store.answered_at_once(conn, start, end)


# ----- resolved tickets join the knowledge base (called inside a step's transaction) -----


def ticket_text(ticket: Ticket) -> EntryText:
    problem = ticket.details if not ticket.system else f"{ticket.details}\n({ticket.system})"
    return EntryText(ticket.summary, problem, ticket.cause, ticket.resolution)


async def follow_steps(conn: AsyncConnection, changes: Sequence[Change], *, now: datetime) -> None:
    """A resolved ticket joins the base (or is brought up to date); one left out by its
    checklist, or reopened, leaves it. Runs in the steps' own transaction."""
    for change in changes:
        ticket = change.ticket
        ref = EntryRef(EntryKind.TICKET, ticket.number)
        if change.kind in ANSWERED_KINDS and joins_knowledge_base(ticket.extra):
            actor = ticket.assignee_id or ticket.reporter_id
            await kb_store.put_entry(conn, ref, ticket_text(ticket), author_id=actor, now=now)
        elif change.kind in ANSWERED_KINDS or change.kind in LEAVING_KINDS:
            await kb_store.retire(conn, ref, by=ticket.assignee_id or "", now=now)


# ----- Markdown import and export (escalator kb import / export) -------------------------


async def import_articles(ctx: Context, files: Sequence[ArticleFile]) -> list[Entry]:
    """Store the articles in one transaction: one that names its KB number replaces that
    article; the others get new numbers."""
    now = ctx.clock.now()
    stored: list[Entry] = []
    async with ctx.db.write() as conn:
        named = [f.number for f in files if f.number is not None]
        if named:
            await kb_store.keep_article_numbers_above(conn, max(named))
        for article in files:
            number = article.number
            if number is None:
                number = await kb_store.take_article_number(conn)
            ref = EntryRef(EntryKind.ARTICLE, number)
            text = EntryText(article.title, article.problem, "", article.answer)
            put = await kb_store.put_entry(conn, ref, text, author_id="import", now=now)
            if article.retired:
                await kb_store.retire(conn, ref, by="import", now=now)
            stored.append(put)
    return stored


async def export_articles(ctx: Context) -> list[tuple[str, str]]:
    """Every article (retired ones marked) as (file name, Markdown)."""
    async with ctx.db.read() as conn:
        found = await kb_store.articles(conn)
    return [
        (
            file_name(a.number),
            render_article(a.number, a.title, a.problem, a.answer, retired=a.retired),
        )
        for a in found
    ]


async def ticket_location(ctx: Context, number: int) -> tuple[str, str] | None:
    async with ctx.db.read() as conn:
        return (await kb_store.ticket_locations(conn, [number])).get(number)
