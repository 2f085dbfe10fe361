"""Knowledge-base queries: entries, the full-text search (BM25), and reports answered at once.

Both databases index the pre-made terms of :func:`bot.domain.kb.tokens`, stored with each
entry (``title_terms``, ``body_terms``), in postings with BM25's statistics
(:mod:`storage.kb_postings`, kept here by the writes), and rank the same way. Neither
database's own parser touches the text, so Chinese is split the same way on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.kb import (
    POSTINGS_BUDGET,
    TERM_POSTINGS_CAP,
    Entry,
    EntryKind,
    EntryRef,
    IndexTerms,
    index_terms,
    ranked_terms,
)
from storage import kb_postings
from storage.tables import Counter, KbAnswerRow, KbEntryRow, TicketRow, table_of

ENTRIES = table_of(KbEntryRow)
ANSWERS = table_of(KbAnswerRow)
COUNTERS = table_of(Counter)
TICKETS = table_of(TicketRow)
# The tables (by the start of their names) that migration 0012_kb_postings makes outside the
# models: storage/migrations/env.py leaves them out of the comparison of models and schema.
SEARCH_ONLY_TABLES = kb_postings.TABLES

_BY_REF = select(ENTRIES).where(
    ENTRIES.c.kind == bindparam("kind"), ENTRIES.c.number == bindparam("number")
)
_TAKE_ARTICLE_NUMBER = (
    update(COUNTERS)
    .where(COUNTERS.c.name == "kb_article")
    .values(value=COUNTERS.c.value + 1)
    .returning(COUNTERS.c.value)
)


@dataclass(frozen=True)
class Hit:
    entry: Entry
    title_terms: tuple[str, ...]  # the entry's index terms, to rank again by every term
    body_terms: tuple[str, ...]

    @property
    def terms(self) -> frozenset[str]:
        return frozenset((*self.title_terms, *self.body_terms))


@dataclass(frozen=True)
class IndexStats:
    """What the index says of a search's terms: how many entries in use hold each (a term
    none holds is left out), and how many entries there are (:func:`index_stats`)."""

    counts: dict[str, int]
    totals: kb_postings.Totals

    @property
    def entries(self) -> int:
        return self.totals.entries


@dataclass(frozen=True)
class Candidates:
    """What the index found best (by its rarest terms), and what ranking them again by every
    term needs: how many entries hold each term and how many there are."""

    hits: list[Hit]
    counts: dict[str, int]
    entries: int


@dataclass(frozen=True)
class EntryText:
    """What an entry says; the terms are made from it."""

    title: str
    problem: str
    cause: str
    answer: str


def to_entry(row: Row[Any]) -> Entry:
    return Entry(
        kind=EntryKind(row.kind),
        number=int(row.number),
        title=row.title,
        problem=row.problem,
        cause=row.cause,
        answer=row.answer,
        author_id=row.author_id,
        updated_at=row.updated_at,
        retired=row.retired_at is not None,
    )


def _terms(content: EntryText) -> IndexTerms:
    return index_terms(content.title, content.problem, content.cause, content.answer)


def _values(content: EntryText, terms: IndexTerms) -> dict[str, Any]:
    return {
        "title": content.title,
        "problem": content.problem,
        "cause": content.cause,
        "answer": content.answer,
        "title_terms": " ".join(terms.title),
        "body_terms": " ".join(terms.body),
    }


def _stored_terms(title_terms: str, body_terms: str) -> IndexTerms:
    """The terms an entry was indexed with (as stored, whatever the tokenizer says today)."""
    return IndexTerms(title=title_terms.split(), body=body_terms.split())


async def get_entry(conn: AsyncConnection, ref: EntryRef) -> Entry | None:
    row = (await conn.execute(_BY_REF, {"kind": ref.kind.value, "number": ref.number})).first()
    return None if row is None else to_entry(row)


async def put_entry(
    conn: AsyncConnection,
    ref: EntryRef,
    content: EntryText,
    *,
    author_id: str,
    now: datetime,
) -> Entry:
    """Insert the entry, or rewrite it (and bring it back if it was retired)."""
    terms = _terms(content)
    values = _values(content, terms)
    found = (
        await conn.execute(
            select(
                ENTRIES.c.id, ENTRIES.c.title_terms, ENTRIES.c.body_terms, ENTRIES.c.retired_at
            ).where(ENTRIES.c.kind == ref.kind.value, ENTRIES.c.number == ref.number)
        )
    ).first()
    old = (
        None
        if found is None or found.retired_at is not None
        else _stored_terms(found.title_terms, found.body_terms)
    )
    if found is None:
        result = await conn.execute(
            insert(ENTRIES)
            .values(
                kind=ref.kind.value,
                number=ref.number,
                author_id=author_id,
                created_at=now,
                updated_at=now,
                retired_at=None,
                retired_by=None,
                **values,
            )
            .returning(ENTRIES.c.id)
        )
        entry_id = int(result.scalar_one())
    else:
        entry_id = int(found.id)
        await conn.execute(
            update(ENTRIES)
            .where(ENTRIES.c.id == entry_id)
            .values(updated_at=now, retired_at=None, retired_by=None, **values)
        )
    await kb_postings.replace(conn, entry_id, old, terms)
    entry = await get_entry(conn, ref)
    assert entry is not None
    return entry


async def take_article_number(conn: AsyncConnection) -> int:
    return int((await conn.execute(_TAKE_ARTICLE_NUMBER)).scalar_one())


async def keep_article_numbers_above(conn: AsyncConnection, number: int) -> None:
    """After an import that named its own KB numbers: new articles are numbered after them."""
    await conn.execute(
        update(COUNTERS)
        .where(COUNTERS.c.name == "kb_article", COUNTERS.c.value < number)
        .values(value=number)
    )


async def retire(conn: AsyncConnection, ref: EntryRef, *, by: str, now: datetime) -> bool:
    """Take the entry out of searches; False when there is no such entry in use."""
    found = (
        await conn.execute(
            update(ENTRIES)
            .where(
                ENTRIES.c.kind == ref.kind.value,
                ENTRIES.c.number == ref.number,
                ENTRIES.c.retired_at.is_(None),
            )
            .values(retired_at=now, retired_by=by, updated_at=now)
            .returning(ENTRIES.c.id, ENTRIES.c.title_terms, ENTRIES.c.body_terms)
        )
    ).first()
    if found is None:
        return False
    terms = _stored_terms(found.title_terms, found.body_terms)
    await kb_postings.replace(conn, int(found.id), terms, None)
    return True


async def index_stats(conn: AsyncConnection, terms: Sequence[str]) -> IndexStats:
    """How many entries in use hold each of the terms, and how many there are, for
    :func:`search`. One statement serves the terms of several searches."""
    return IndexStats(*await kb_postings.counts_and_totals(conn, terms))


async def pairs_holding(
    conn: AsyncConnection, characters: Sequence[str], limit: int
) -> dict[str, list[str]]:
    """The indexed pairs that hold each lone CJK character, up to ``limit`` of them each,
    those most entries hold first (:func:`bot.domain.kb.with_pairs`)."""
    return await kb_postings.pairs(conn, characters, limit)


async def search(
    conn: AsyncConnection, terms: Sequence[str], *, limit: int, stats: IndexStats
) -> Candidates:
    """The ``limit`` best entries in use for the terms (any of them), by BM25 over the rarest
    terms (:func:`bot.domain.kb.ranked_terms`), with the statistics to rank them again.
    ``stats``: :func:`index_stats` of (at least) these terms."""
    known = {t: stats.counts[t] for t in terms if t in stats.counts}
    ranked = ranked_terms(terms, known, POSTINGS_BUDGET, cap=TERM_POSTINGS_CAP)
    if not ranked:
        return Candidates([], known, stats.entries)
    params = kb_postings.search_params(ranked, known, stats.totals, limit=limit)
    rows = (await conn.execute(kb_postings.search_statement(len(ranked)), params)).all()
    hits = [
        Hit(to_entry(row), tuple(row.title_terms.split()), tuple(row.body_terms.split()))
        for row in rows
    ]
    return Candidates(hits, known, stats.entries)


async def ticket_locations(
    conn: AsyncConnection, numbers: Sequence[int]
) -> dict[int, tuple[str, str]]:
    """Channel and ts of the messages of these tickets, where posted."""
    if not numbers:
        return {}
    rows = await conn.execute(
        select(TICKETS.c.number, TICKETS.c.message_channel, TICKETS.c.message_ts).where(
            TICKETS.c.number.in_(list(numbers))
        )
    )
    return {
        int(r.number): (r.message_channel, r.message_ts)
        for r in rows
        if r.message_channel and r.message_ts
    }


async def articles(conn: AsyncConnection, *, with_retired: bool = True) -> list[Entry]:
    statement = select(ENTRIES).where(ENTRIES.c.kind == EntryKind.ARTICLE.value)
    if not with_retired:
        statement = statement.where(ENTRIES.c.retired_at.is_(None))
    rows = await conn.execute(statement.order_by(ENTRIES.c.number))
    return [to_entry(row) for row in rows]


async def record_answer(
    conn: AsyncConnection,
    *,
    request_key: str,
    user_id: str,
    ref: EntryRef,
    summary: str,
    now: datetime,
) -> bool:
    """Count a report answered at once; False when this click was counted before."""
    seen = (
        await conn.execute(select(ANSWERS.c.id).where(ANSWERS.c.request_key == request_key))
    ).first()
    if seen is not None:
        return False
    await conn.execute(
        insert(ANSWERS).values(
            request_key=request_key,
            at=now,
            user_id=user_id,
            entry_kind=ref.kind.value,
            entry_number=ref.number,
            summary=summary,
        )
    )
    return True


async def answered_at_once(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    """Reports answered at once by the knowledge base in [start, end)."""
    count = await conn.scalar(
        select(func.count()).select_from(ANSWERS).where(ANSWERS.c.at >= start, ANSWERS.c.at < end)
    )
    return int(count or 0)
