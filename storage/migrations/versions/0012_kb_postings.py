"""knowledge base on PostgreSQL: postings with BM25's statistics instead of a tsvector

A search ranked by ts_rank read every matching entry's tsvector from the table (a GIN index
gives no term frequencies): 20 ms of the server's CPU a search over 100,000 entries. The
postings (term, entry, weighted frequency, weighted length) under one B-tree let it sum BM25
from an index-only scan; ``kb_terms`` counts the entries holding each term, the counters
``kb_entries`` and ``kb_length`` the entries in use and their total weighted length. Built
here from the terms each entry already stores; storage.kb_postings keeps them with every
write. SQLite keeps its FTS5 index: nothing changes there.

Revision ID: 0012_kb_postings
Revises: 0010_delivery
"""

from __future__ import annotations

from alembic import op

revision = "0012_kb_postings"
down_revision = "0010_delivery"
branch_labels = None
depends_on = None

# The title's terms weigh 2, the body's 1 (bot.domain.kb.TITLE_WEIGHT, BODY_WEIGHT); stored
# frequencies and lengths are cut to a smallint's largest value.
_UPGRADE = (
    "CREATE TABLE kb_postings (term text NOT NULL, entry_id integer NOT NULL, "
    "tf smallint NOT NULL, length smallint NOT NULL)",
    "WITH t AS ("
    "SELECT e.id, x.term, 2 AS w FROM kb_entries e, "
    "unnest(string_to_array(e.title_terms, ' ')) AS x(term) WHERE e.retired_at IS NULL "
    "UNION ALL SELECT e.id, x.term, 1 FROM kb_entries e, "
    "unnest(string_to_array(e.body_terms, ' ')) AS x(term) WHERE e.retired_at IS NULL"
    "), l AS (SELECT id, sum(w) AS length FROM t GROUP BY id) "
    "INSERT INTO kb_postings (term, entry_id, tf, length) "
    "SELECT t.term, t.id, least(sum(t.w), 32767), least(min(l.length), 32767) "
    "FROM t JOIN l ON l.id = t.id GROUP BY t.term, t.id",
    # A term's postings best first: highest frequency, then shortest entry.
    "CREATE INDEX ix_kb_postings_term ON kb_postings (term, tf DESC, length, entry_id)",
    "CREATE TABLE kb_terms (term text PRIMARY KEY, entries integer NOT NULL)",
    "INSERT INTO kb_terms (term, entries) SELECT term, count(*) FROM kb_postings GROUP BY term",
    "INSERT INTO counters (name, value) VALUES "
    "('kb_entries', (SELECT count(*) FROM kb_entries WHERE retired_at IS NULL)), "
    "('kb_length', (SELECT coalesce(sum(length), 0) FROM "
    "(SELECT DISTINCT entry_id, length FROM kb_postings) AS d))",
    "DROP INDEX ix_kb_entries_search",
    "ALTER TABLE kb_entries DROP COLUMN search_vector",
)
# Back to 0008_kb's tsvector column (without positions: ts_rank counts one a term).
_DOWNGRADE = (
    "ALTER TABLE kb_entries ADD COLUMN search_vector tsvector",
    "UPDATE kb_entries SET search_vector = "
    "setweight(array_to_tsvector(string_to_array(title_terms, ' ')), 'A') || "
    "setweight(array_to_tsvector(string_to_array(body_terms, ' ')), 'B')",
    "CREATE INDEX ix_kb_entries_search ON kb_entries USING gin (search_vector) "
    "WHERE retired_at IS NULL",
    "DELETE FROM counters WHERE name IN ('kb_entries', 'kb_length')",
    "DROP TABLE kb_terms",
    "DROP TABLE kb_postings",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWNGRADE:
            op.execute(statement)
