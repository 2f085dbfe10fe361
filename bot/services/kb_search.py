"""The knowledge base's searches: the index's best candidates, ranked again by every term of
the search, with the relevance rule for what is offered unasked.

Searches asked for together (a burst of `/ticket show`, report forms typed at once) share
one read connection and one read of their terms' counts: :class:`KbSearches`, built once
by the composition root (bot.app.build) and handed on the Context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.kb import CANDIDATES, Entry, EntryKind, EntryRef, best_first, shared_enough
from bot.services.group_commit import Batcher
from storage import kb as kb_store
from storage.db import Database


@dataclass(frozen=True)
class Match:
    entry: Entry
    location: tuple[str, str] | None  # the ticket message's channel and ts, where posted


@dataclass(frozen=True)
class Search:
    """One search: ``strict`` (what is offered unasked: the report form, `/ticket show`)
    keeps only entries that pass the relevance rule; a search asked for with `/kb` shows the
    best BM25 matches as they are. ``skip``: an entry never shown (the ticket itself)."""

    terms: tuple[str, ...]
    limit: int
    strict: bool
    skip: EntryRef | None = None


async def run_searches(db: Database, searches: Sequence[Search]) -> list[list[Match]]:
    """The matches of each search, on one read connection with one read of the counts."""
    if not any(s.terms for s in searches):
        return [[] for _ in searches]
    async with db.read() as conn:
        terms = sorted({t for s in searches for t in s.terms})
        stats = await kb_store.index_stats(conn, terms)
        return [await _best(conn, s, stats) if s.terms else [] for s in searches]


class KbSearches:
    """Batches the searches of one database (see the module's text)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._batcher: Batcher[Search, list[Match]] = Batcher(partial(run_searches, db))

    async def submit(self, search: Search) -> list[Match]:
        return await self._batcher.submit(search)


async def _best(conn: AsyncConnection, search: Search, stats: kb_store.IndexStats) -> list[Match]:
    """The best entries for the search's terms."""
    terms = search.terms
    found = await kb_store.search(conn, terms, limit=CANDIDATES, stats=stats)
    if not found.hits:
        return []
    docs = [(h.title_terms, h.body_terms) for h in found.hits]
    order = best_first(terms, found.counts, found.entries, docs)
    asked = frozenset(terms)
    kept = [
        hit
        for hit in (found.hits[i] for i in order)
        if hit.terms & asked  # what the entry says now shares a term with the search
        and (not search.strict or shared_enough(terms, hit.terms))
        and (search.skip is None or hit.entry.ref != search.skip)
    ][: search.limit]
    numbers = [h.entry.number for h in kept if h.entry.kind is EntryKind.TICKET]
    locations = await kb_store.ticket_locations(conn, numbers)
    return [
        Match(
            h.entry,
            locations.get(h.entry.number) if h.entry.kind is EntryKind.TICKET else None,
        )
        for h in kept
    ]
