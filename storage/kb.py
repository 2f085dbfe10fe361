"""Knowledge-base queries: entries, the full-text search (BM25), and reports answered at once.

Both databases index the same pre-made terms (:func:`bot.domain.kb.tokens`): SQLite through the
FTS5 table ``kb_fts`` (kept by triggers, ranked with ``bm25()``), PostgreSQL through the
tsvector column ``search_vector`` with a GIN index (written here from the terms, with the
title weighted A and the body B, ranked with ``ts_rank``). Neither database's own parser
touches the text, so Chinese is split the same way on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.kb import (
    BODY_WEIGHT,
    TITLE_WEIGHT,
    Entry,
    EntryKind,
    EntryRef,
    IndexTerms,
    index_terms,
    ranked_terms,
)
from storage.tables import Counter, KbAnswerRow, KbEntryRow, TicketRow, table_of

ENTRIES = table_of(KbEntryRow)
ANSWERS = table_of(KbAnswerRow)
COUNTERS = table_of(Counter)
TICKETS = table_of(TicketRow)
# What migration 0008_kb makes outside the models (storage/migrations/env.py leaves them out
# of the comparison of models and schema).
SEARCH_ONLY_TABLE_PREFIX = "kb_fts"
SEARCH_ONLY_COLUMN = "search_vector"
SEARCH_ONLY_INDEX = "ix_kb_entries_search"
POSITION_MAX = 16_383  # PostgreSQL's largest tsvector position

_BY_REF = select(ENTRIES).where(
    ENTRIES.c.kind == bindparam("kind"), ENTRIES.c.number == bindparam("number")
)
_TAKE_ARTICLE_NUMBER = (
    update(COUNTERS)
    .where(COUNTERS.c.name == "kb_article")
    .values(value=COUNTERS.c.value + 1)
    .returning(COUNTERS.c.value)
)
# The best rows of the index first, then their entries (joining first would read every
# matching entry's text). Retired entries are not in the index (the migration's triggers).
SQLITE_SEARCH = text(
    "SELECT e.*, best.score FROM ("
    f"SELECT rowid, bm25(kb_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score FROM kb_fts "
    "WHERE kb_fts MATCH :query ORDER BY score LIMIT :limit"
    ") AS best JOIN kb_entries e ON e.id = best.rowid ORDER BY best.score"
)
SQLITE_TERM_COUNTS = text("SELECT term, doc FROM kb_fts_terms WHERE term IN :terms").bindparams(
    bindparam("terms", expanding=True)
)
# ts_rank with normalization 1 (divided by 1 + the log of the length), the weights of
# A (title) and B (body) in the ratio of TITLE_WEIGHT to BODY_WEIGHT; higher is better.
POSTGRESQL_WEIGHTS = f"{{0,0,{BODY_WEIGHT / TITLE_WEIGHT},1}}"  # D, C, B, A
POSTGRESQL_SEARCH = text(
    f"SELECT e.*, -ts_rank('{POSTGRESQL_WEIGHTS}'::real[], e.search_vector, q.query, 1) AS score "
    "FROM kb_entries e, (SELECT CAST(:query AS tsquery) AS query) q "
    "WHERE e.search_vector @@ q.query AND e.retired_at IS NULL "
    "ORDER BY score LIMIT :limit"
)
# How many entries hold each of the search's terms, as PostgreSQL's statistics estimate it:
# ANALYZE (autovacuum) keeps the most common lexemes of the tsvector column with their
# frequencies; a term not among them is rarer than all of them. Reading them is a catalog
# lookup, not a scan (ts_stat would read every entry).
POSTGRESQL_TERM_COUNTS = text(
    "SELECT t.term, t.freq * c.reltuples AS entries "
    "FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
    "AND c.relnamespace = to_regnamespace(s.schemaname), "
    "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS t(term, freq) "
    "WHERE s.schemaname = current_schema() AND s.tablename = 'kb_entries' "
    "AND s.attname = 'search_vector' AND t.term IN :terms"
).bindparams(bindparam("terms", expanding=True))
POSTGRESQL_HAS_STATISTICS = text(
    "SELECT 1 FROM pg_stats WHERE schemaname = current_schema() "
    "AND tablename = 'kb_entries' AND attname = 'search_vector' "
    "AND most_common_elems IS NOT NULL"
)
_SET_VECTOR = text("UPDATE kb_entries SET search_vector = CAST(:vector AS tsvector) WHERE id = :id")


@dataclass(frozen=True)
class Hit:
    entry: Entry
    title_terms: tuple[str, ...]  # the entry's index terms, to rank again by every term
    body_terms: tuple[str, ...]

    @property
    def terms(self) -> frozenset[str]:
        return frozenset((*self.title_terms, *self.body_terms))


@dataclass(frozen=True)
class Candidates:
    """What the index found best (by its rarest terms), and what ranking them again by every
    term needs: how many entries hold each term (None: unknown) and how many there are."""

    hits: list[Hit]
    counts: dict[str, int] | None
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


def tsvector_literal(terms: IndexTerms) -> str:
    """The terms as a tsvector value with positions and weights (title A, body B), made here
    rather than by PostgreSQL's parser, whose idea of a word depends on the server's locale."""
    positions: dict[str, list[str]] = {}
    for index, term in enumerate(terms.all):
        weight = "A" if index < len(terms.title) else "B"
        positions.setdefault(term, []).append(f"{min(index + 1, POSITION_MAX)}{weight}")
    return " ".join(
        "'" + term.replace("'", "''") + "':" + ",".join(places[:256])
        for term, places in positions.items()
    )


def tsquery_literal(terms: Sequence[str]) -> str:
    return " | ".join("'" + term.replace("'", "''") + "'" for term in terms)


def fts5_query(terms: Sequence[str]) -> str:
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


async def _index(conn: AsyncConnection, entry_id: int, terms: IndexTerms) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(_SET_VECTOR, {"vector": tsvector_literal(terms), "id": entry_id})


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
            select(ENTRIES.c.id).where(
                ENTRIES.c.kind == ref.kind.value, ENTRIES.c.number == ref.number
            )
        )
    ).first()
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
    await _index(conn, entry_id, terms)
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
    result = await conn.execute(
        update(ENTRIES)
        .where(
            ENTRIES.c.kind == ref.kind.value,
            ENTRIES.c.number == ref.number,
            ENTRIES.c.retired_at.is_(None),
        )
        .values(retired_at=now, retired_by=by, updated_at=now)
    )
    return bool(result.rowcount)


async def search(conn: AsyncConnection, terms: Sequence[str], *, limit: int) -> Candidates:
    """The ``limit`` best entries in use for the terms (any of them), by BM25 over the rarest
    terms (:func:`bot.domain.kb.ranked_terms`), with the statistics to rank them again."""
    counts: dict[str, int] | None = None
    if conn.dialect.name == "sqlite" and terms:
        rows = (await conn.execute(SQLITE_TERM_COUNTS, {"terms": list(terms)})).all()
        counts = {str(r.term): int(r.doc) for r in rows}
    elif conn.dialect.name == "postgresql" and terms:
        counts = await _postgresql_counts(conn, terms)
    ranked = ranked_terms(terms, counts)
    if not ranked:
        return Candidates([], counts, 0)
    if conn.dialect.name == "postgresql":
        params: dict[str, Any] = {"query": tsquery_literal(ranked), "limit": limit}
        rows = (await conn.execute(POSTGRESQL_SEARCH, params)).all()
    else:
        params = {"query": fts5_query(ranked), "limit": limit}
        rows = (await conn.execute(SQLITE_SEARCH, params)).all()
    entries = int(await conn.scalar(select(func.max(ENTRIES.c.id))) or 0)
    hits = [
        Hit(to_entry(row), tuple(row.title_terms.split()), tuple(row.body_terms.split()))
        for row in rows
    ]
    return Candidates(hits, counts, entries)


async def _postgresql_counts(conn: AsyncConnection, terms: Sequence[str]) -> dict[str, int] | None:
    """Estimated entries per term (a term the statistics do not list: 1); None before the
    table was first analyzed (it is small then, and every term is ranked)."""
    if (await conn.execute(POSTGRESQL_HAS_STATISTICS)).first() is None:
        return None
    rows = (await conn.execute(POSTGRESQL_TERM_COUNTS, {"terms": list(terms)})).all()
    known = {str(r.term): max(1, int(r.entries)) for r in rows}
    return {term: known.get(term, 1) for term in terms}


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


def search_statement(dialect: str) -> TextClause:
    """The search statement a dialect runs (tests compile the PostgreSQL one)."""
    return POSTGRESQL_SEARCH if dialect == "postgresql" else SQLITE_SEARCH
