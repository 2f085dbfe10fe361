"""knowledge base: postings with BM25's statistics on both databases (no FTS5, no tsvector)

PostgreSQL ranked with ts_rank, reading every matching entry's tsvector from the table (a GIN
index gives no term frequencies): 20 ms of the server's CPU a search over 100,000 entries.
SQLite's FTS5 read each term's whole list, and its vocabulary table counted a term's entries
by reading its list too. Now both hold the same postings (term, entry, weighted frequency,
weighted length) in one B-tree, ordered so that a term's best postings come first; a search
sums BM25 from that B-tree alone. ``kb_terms`` counts the entries holding each term, the
counters ``kb_entries`` and ``kb_length`` the entries in use and their total weighted length.
Built here from the terms each entry already stores; storage.kb_postings keeps them with
every write. Downgraded, 0008_kb's index comes back, filled from the same terms.

Revision ID: 0012_kb_postings
Revises: 0011_next_due
"""

from __future__ import annotations

from alembic import op

revision = "0012_kb_postings"
down_revision = "0011_next_due"
branch_labels = None
depends_on = None

# SQLite: the B-tree is the table (WITHOUT ROWID); PostgreSQL: an index over a narrow table.
_TABLES = {
    "sqlite": (
        "CREATE TABLE kb_postings (term TEXT NOT NULL, entry_id INTEGER NOT NULL, "
        "tf INTEGER NOT NULL, length INTEGER NOT NULL, "
        "CONSTRAINT pk_kb_postings PRIMARY KEY (term, tf DESC, length, entry_id)) WITHOUT ROWID",
        "CREATE TABLE kb_terms (term TEXT NOT NULL PRIMARY KEY, entries INTEGER NOT NULL) "
        "WITHOUT ROWID",
    ),
    "postgresql": (
        "CREATE TABLE kb_postings (term text NOT NULL, entry_id integer NOT NULL, "
        "tf smallint NOT NULL, length smallint NOT NULL)",
        "CREATE INDEX ix_kb_postings_term ON kb_postings (term, tf DESC, length, entry_id)",
        "CREATE TABLE kb_terms (term text PRIMARY KEY, entries integer NOT NULL)",
    ),
}
# Each entry's terms as rows (title weighs 2, body 1: bot.domain.kb.TITLE_WEIGHT, BODY_WEIGHT).
_SPLIT = {
    "postgresql": "unnest(string_to_array({column}, ' ')) AS x(value)",
    # a term is letters or digits: the space-separated terms make a JSON array as they are
    "sqlite": "json_each('[\"' || replace({column}, ' ', '\",\"') || '\"]') AS x",
}
_LEAST = {"postgresql": "least", "sqlite": "min"}


def _fill(dialect: str) -> tuple[str, ...]:
    split, least = _SPLIT[dialect], _LEAST[dialect]
    return (
        "INSERT INTO kb_postings (term, entry_id, tf, length) "
        "WITH t AS ("
        f"SELECT e.id, x.value AS term, 2 AS w FROM kb_entries e, "
        f"{split.format(column='e.title_terms')} WHERE e.retired_at IS NULL AND x.value <> '' "
        f"UNION ALL SELECT e.id, x.value, 1 FROM kb_entries e, "
        f"{split.format(column='e.body_terms')} WHERE e.retired_at IS NULL AND x.value <> ''"
        "), l AS (SELECT id, sum(w) AS length FROM t GROUP BY id) "
        f"SELECT t.term, t.id, {least}(sum(t.w), 32767), {least}(min(l.length), 32767) "
        "FROM t JOIN l ON l.id = t.id GROUP BY t.term, t.id",
        "INSERT INTO kb_terms (term, entries) SELECT term, count(*) FROM kb_postings GROUP BY term",
        "INSERT INTO counters (name, value) VALUES "
        "('kb_entries', (SELECT count(*) FROM kb_entries WHERE retired_at IS NULL)), "
        "('kb_length', (SELECT coalesce(sum(length), 0) FROM "
        "(SELECT DISTINCT entry_id, length FROM kb_postings) AS d))",
    )


# 0008_kb's index, dropped on the way up and made again (from the same terms) on the way down.
_SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS kb_fts_insert",
    "DROP TRIGGER IF EXISTS kb_fts_delete",
    "DROP TRIGGER IF EXISTS kb_fts_update",
    "DROP TABLE IF EXISTS kb_fts_terms",
    "DROP TABLE IF EXISTS kb_fts",
)
_SQLITE_FTS_MAKE = (
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title_terms, body_terms, content='kb_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE kb_fts_terms USING fts5vocab(kb_fts, 'row')",
    "CREATE TRIGGER kb_fts_insert AFTER INSERT ON kb_entries WHEN new.retired_at IS NULL "
    "BEGIN INSERT INTO kb_fts(rowid, title_terms, body_terms) "
    "VALUES (new.id, new.title_terms, new.body_terms); END",
    "CREATE TRIGGER kb_fts_delete AFTER DELETE ON kb_entries WHEN old.retired_at IS NULL "
    "BEGIN INSERT INTO kb_fts(kb_fts, rowid, title_terms, body_terms) "
    "VALUES ('delete', old.id, old.title_terms, old.body_terms); END",
    "CREATE TRIGGER kb_fts_update AFTER UPDATE ON kb_entries BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title_terms, body_terms) "
    "SELECT 'delete', old.id, old.title_terms, old.body_terms WHERE old.retired_at IS NULL; "
    "INSERT INTO kb_fts(rowid, title_terms, body_terms) "
    "SELECT new.id, new.title_terms, new.body_terms WHERE new.retired_at IS NULL; END",
    "INSERT INTO kb_fts(rowid, title_terms, body_terms) "
    "SELECT id, title_terms, body_terms FROM kb_entries WHERE retired_at IS NULL",
)
_POSTGRESQL_TSVECTOR_DROP = (
    "DROP INDEX ix_kb_entries_search",
    "ALTER TABLE kb_entries DROP COLUMN search_vector",
)
# Without positions: ts_rank counts each term once.
_POSTGRESQL_TSVECTOR_MAKE = (
    "ALTER TABLE kb_entries ADD COLUMN search_vector tsvector",
    "UPDATE kb_entries SET search_vector = "
    "setweight(array_to_tsvector(string_to_array(title_terms, ' ')), 'A') || "
    "setweight(array_to_tsvector(string_to_array(body_terms, ' ')), 'B')",
    "CREATE INDEX ix_kb_entries_search ON kb_entries USING gin (search_vector) "
    "WHERE retired_at IS NULL",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    old = _SQLITE_FTS_DROP if dialect == "sqlite" else _POSTGRESQL_TSVECTOR_DROP
    for statement in (*_TABLES[dialect], *_fill(dialect), *old):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    old = _SQLITE_FTS_MAKE if dialect == "sqlite" else _POSTGRESQL_TSVECTOR_MAKE
    gone = (
        "DELETE FROM counters WHERE name IN ('kb_entries', 'kb_length')",
        "DROP TABLE kb_terms",
        "DROP TABLE kb_postings",
    )
    for statement in (*old, *gone):
        op.execute(statement)
