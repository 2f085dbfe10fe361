"""The knowledge base's index, on both databases: postings with BM25's statistics, kept by the
writes.

``kb_postings`` holds one narrow row per (term, entry in use): the term's weighted frequency
in the entry and the entry's weighted length (:func:`bot.domain.kb.weighted`), in one B-tree
ordered by term, then frequency (highest first), then length (SQLite: the table itself,
WITHOUT ROWID; PostgreSQL: an index over it). A search sums BM25 over its rarest terms'
postings from that B-tree alone, each term's best postings first and at most
:data:`bot.domain.kb.TERM_POSTINGS_CAP` of them; it never reads the entries' text.
``kb_terms`` counts the entries in use that hold each term; the ``counters`` rows
``kb_entries`` and ``kb_length`` count the entries in use and their total weighted length
(for the average). Every write that changes which terms an entry in use has (a ticket
resolved or reopened, an article added, edited, retired or imported) goes through
:func:`replace`, in the writer's transaction, so the index is never behind the entries.
Made by migration 0012_kb_postings (outside the models: see storage.kb.SEARCH_ONLY_TABLES).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.kb import (
    BM25_K1,
    BODY_WEIGHT,
    TERM_POSTINGS_CAP,
    TITLE_WEIGHT,
    WEIGHTED_MAX,
    IndexTerms,
    LengthNorm,
    idf,
    weighted,
)

log = logging.getLogger(__name__)

TABLES = ("kb_postings", "kb_terms")
ENTRIES_COUNTER = "kb_entries"
LENGTH_COUNTER = "kb_length"

# First in every index write: the two counters' rows are then the index's lock, so writers
# of the index queue there before touching kb_terms, and two of them never deadlock
# (PostgreSQL; SQLite has one writer at a time).
_TOTALS = text(
    "UPDATE counters SET value = value + CASE name WHEN :entries_name THEN "
    "CAST(:entries AS bigint) ELSE CAST(:length AS bigint) END "
    "WHERE name IN (:entries_name, :length_name)"
)
_ADD = text(
    "INSERT INTO kb_postings (term, entry_id, tf, length) VALUES (:term, :id, :tf, :length)"
)
# The exact key of each posting (term, tf, length, entry): one B-tree descent each, even
# for a term in most entries. PostgreSQL: in one statement (its driver sums no rowcounts of
# an executemany); SQLite: one row at a time, in one executemany.
_REMOVE = text(
    "DELETE FROM kb_postings WHERE term = :term AND tf = :tf AND length = :length "
    "AND entry_id = :id"
)
_REMOVE_POSTGRESQL = text(
    "DELETE FROM kb_postings p USING unnest(CAST(:terms AS text[]), CAST(:tfs AS smallint[])) "
    "AS u(term, tf) WHERE p.term = u.term AND p.tf = u.tf AND p.length = :length "
    "AND p.entry_id = :id"
)
_REMOVE_ANY = text("DELETE FROM kb_postings WHERE term IN :terms AND entry_id = :id").bindparams(
    bindparam("terms", expanding=True)
)
# One term at a time, in the terms' order, so that concurrent writers lock rows in one order.
_COUNT = text(
    "INSERT INTO kb_terms (term, entries) VALUES (:term, :delta) "
    "ON CONFLICT (term) DO UPDATE SET entries = kb_terms.entries + excluded.entries"
)
_FORGET = text("DELETE FROM kb_terms WHERE term IN :terms AND entries <= 0").bindparams(
    bindparam("terms", expanding=True)
)
_COUNTS = text(
    "SELECT term, entries FROM kb_terms WHERE term IN :terms AND entries > 0"
).bindparams(bindparam("terms", expanding=True))
# The terms of two characters that begin or end with a character (its pairs), those most
# entries hold first.
_PAIRS = text(
    "SELECT term FROM kb_terms WHERE entries > 0 AND (term LIKE :starting OR term LIKE :ending) "
    "AND term <> :character ORDER BY entries DESC, term LIMIT :limit"
)
_READ_TOTALS = text("SELECT name, value FROM counters WHERE name IN (:entries_name, :length_name)")
# Both in one statement (a search's one read of the index's statistics): the totals' rows
# first (part 0), then the terms' (part 1).
_READ_STATS = text(
    "SELECT 0 AS part, name AS key, value AS n FROM counters"
    " WHERE name IN (:entries_name, :length_name)"
    " UNION ALL SELECT 1, term, entries FROM kb_terms WHERE term IN :terms AND entries > 0"
).bindparams(bindparam("terms", expanding=True))


@cache
def search_statement(terms: int) -> TextClause:
    """The ``limit`` best entries in use by BM25 over ``terms`` terms (``t0``…, each with its
    idf times k1 + 1, ``w0``…), each term's postings read best first and at most ``cap`` of
    them; lower score is better. One statement for both databases."""
    parts = " UNION ALL ".join(
        f"SELECT * FROM (SELECT k.entry_id, CAST(:w{i} AS float8) * k.tf / (k.tf + "
        "CAST(:base AS float8) + CAST(:per_unit AS float8) * k.length) AS part "
        f"FROM kb_postings k WHERE k.term = :t{i} ORDER BY k.tf DESC, k.length LIMIT :cap) "
        f"AS p{i}"
        for i in range(terms)
    )
    return text(
        "SELECT e.*, best.score FROM ("
        f"SELECT p.entry_id, -sum(p.part) AS score FROM ({parts}) AS p "
        "GROUP BY p.entry_id ORDER BY score LIMIT :limit"
        ") AS best JOIN kb_entries e ON e.id = best.entry_id "
        "WHERE e.retired_at IS NULL ORDER BY best.score, e.id"
    )


@dataclass(frozen=True)
class Postings:
    """What the index holds of one entry in use: its terms' weighted frequencies and its
    weighted length, as stored (cut to :data:`bot.domain.kb.WEIGHTED_MAX`)."""

    freq: dict[str, int]
    length: int

    @classmethod
    def of(cls, terms: IndexTerms) -> Postings:
        freq, length = weighted(terms.title, terms.body)
        return cls({t: min(f, WEIGHTED_MAX) for t, f in freq.items()}, min(length, WEIGHTED_MAX))

    def rows(self, entry_id: int) -> list[dict[str, object]]:
        return [
            {"term": term, "tf": self.freq[term], "length": self.length, "id": entry_id}
            for term in sorted(self.freq)
        ]


@dataclass(frozen=True)
class Totals:
    entries: int
    length: int

    @property
    def average_length(self) -> float:
        return self.length / self.entries if self.entries > 0 else 1.0


async def replace(
    conn: AsyncConnection, entry_id: int, old: IndexTerms | None, new: IndexTerms | None
) -> None:
    """The entry's postings go from ``old`` (None: it was not in use) to ``new`` (None: it
    is no longer in use), with the counts and totals."""
    before = None if old is None else Postings.of(old)
    after = None if new is None else Postings.of(new)
    if before is None and after is None:
        return
    await conn.execute(
        _TOTALS,
        {
            "entries_name": ENTRIES_COUNTER,
            "length_name": LENGTH_COUNTER,
            "entries": int(after is not None) - int(before is not None),
            "length": (after.length if after else 0) - (before.length if before else 0),
        },
    )
    if before is not None and before.freq:
        rows = before.rows(entry_id)
        if conn.dialect.name == "postgresql":
            removed = (
                await conn.execute(
                    _REMOVE_POSTGRESQL,
                    {
                        "terms": [r["term"] for r in rows],
                        "tfs": [r["tf"] for r in rows],
                        "length": before.length,
                        "id": entry_id,
                    },
                )
            ).rowcount
        else:
            removed = (await conn.execute(_REMOVE, rows)).rowcount
        if removed != len(before.freq):  # not as stored: take the entry's postings by term
            log.warning(
                "kb index: %d of %d postings of entry %d found by their key",
                removed,
                len(before.freq),
                entry_id,
            )
            await conn.execute(_REMOVE_ANY, {"terms": sorted(before.freq), "id": entry_id})
    if after is not None and after.freq:
        await conn.execute(_ADD, after.rows(entry_id))
    old_terms = set(before.freq) if before else set()
    new_terms = set(after.freq) if after else set()
    deltas = {t: 1 for t in new_terms - old_terms} | {t: -1 for t in old_terms - new_terms}
    if deltas:
        await conn.execute(_COUNT, [{"term": t, "delta": deltas[t]} for t in sorted(deltas)])
        gone = sorted(old_terms - new_terms)
        if gone:
            await conn.execute(_FORGET, {"terms": gone})


async def counts(conn: AsyncConnection, terms: Sequence[str]) -> dict[str, int]:
    """How many entries in use hold each of the terms (terms none holds are left out)."""
    if not terms:
        return {}
    rows = await conn.execute(_COUNTS, {"terms": list(terms)})
    return {str(r.term): int(r.entries) for r in rows}


async def pairs(
    conn: AsyncConnection, characters: Sequence[str], limit: int
) -> dict[str, list[str]]:
    """For each CJK character, up to ``limit`` indexed pairs that hold it, commonest first."""
    found: dict[str, list[str]] = {}
    for character in characters:
        rows = await conn.execute(
            _PAIRS,
            {
                "starting": f"{character}_",
                "ending": f"_{character}",
                "character": character,
                "limit": limit,
            },
        )
        found[character] = [str(row.term) for row in rows]
    return found


async def totals(conn: AsyncConnection) -> Totals:
    rows = await conn.execute(
        _READ_TOTALS, {"entries_name": ENTRIES_COUNTER, "length_name": LENGTH_COUNTER}
    )
    values = {str(r.name): int(r.value) for r in rows}
    return Totals(values.get(ENTRIES_COUNTER, 0), values.get(LENGTH_COUNTER, 0))


async def counts_and_totals(
    conn: AsyncConnection, terms: Sequence[str]
) -> tuple[dict[str, int], Totals]:
    """:func:`counts` and :func:`totals` in one statement."""
    if not terms:
        return {}, await totals(conn)
    rows = await conn.execute(
        _READ_STATS,
        {"terms": list(terms), "entries_name": ENTRIES_COUNTER, "length_name": LENGTH_COUNTER},
    )
    held: dict[str, int] = {}
    values: dict[str, int] = {}
    for part, key, n in rows:
        (held if part else values)[str(key)] = int(n)
    return held, Totals(values.get(ENTRIES_COUNTER, 0), values.get(LENGTH_COUNTER, 0))


def search_params(
    terms: Sequence[str], held: dict[str, int], found: Totals, *, limit: int
) -> dict[str, object]:
    """:func:`search_statement`'s parameters: BM25 over ``terms`` (``held``: entries holding
    each)."""
    norm = LengthNorm.over(found.average_length)
    params: dict[str, object] = {
        "base": norm.base,
        "per_unit": norm.per_unit,
        "cap": TERM_POSTINGS_CAP,
        "limit": limit,
    }
    for i, term in enumerate(terms):
        params[f"t{i}"] = term
        params[f"w{i}"] = idf(held.get(term, 1), found.entries) * (BM25_K1 + 1)
    return params


def _split(dialect: str, column: str) -> str:
    """A FROM item ``x`` of the space-separated terms in ``column`` (each row's ``value``)."""
    if dialect == "postgresql":
        return f"unnest(string_to_array({column}, ' ')) AS x(value)"
    # SQLite: the terms as a JSON array (a term is letters or digits: no quote, no backslash)
    return f"json_each('[\"' || replace({column}, ' ', '\",\"') || '\"]') AS x"


def rebuild_statements(dialect: str) -> tuple[str, ...]:
    """The whole index again from the entries' stored terms (the bench's bulk load; tests
    check that the writes keep the same index as this makes)."""
    least = "least" if dialect == "postgresql" else "min"
    return (
        "DELETE FROM kb_postings",
        "DELETE FROM kb_terms",
        "WITH t AS ("
        f"SELECT e.id, x.value AS term, {TITLE_WEIGHT} AS w FROM kb_entries e, "
        f"{_split(dialect, 'e.title_terms')} WHERE e.retired_at IS NULL AND x.value <> '' "
        f"UNION ALL SELECT e.id, x.value, {BODY_WEIGHT} FROM kb_entries e, "
        f"{_split(dialect, 'e.body_terms')} WHERE e.retired_at IS NULL AND x.value <> ''"
        "), l AS (SELECT id, sum(w) AS length FROM t GROUP BY id) "
        "INSERT INTO kb_postings (term, entry_id, tf, length) "
        f"SELECT t.term, t.id, {least}(sum(t.w), {WEIGHTED_MAX}), "
        f"{least}(min(l.length), {WEIGHTED_MAX}) "
        "FROM t JOIN l ON l.id = t.id GROUP BY t.term, t.id",
        "INSERT INTO kb_terms (term, entries) SELECT term, count(*) FROM kb_postings GROUP BY term",
        "UPDATE counters SET value = (SELECT count(*) FROM kb_entries WHERE retired_at IS NULL) "
        f"WHERE name = '{ENTRIES_COUNTER}'",
        "UPDATE counters SET value = (SELECT coalesce(sum(length), 0) FROM "
        "(SELECT DISTINCT entry_id, length FROM kb_postings) AS d) "
        f"WHERE name = '{LENGTH_COUNTER}'",
    )


async def rebuild(conn: AsyncConnection) -> None:
    for statement in rebuild_statements(conn.dialect.name):
        await conn.execute(text(statement))
