"""knowledge base: entries, their full-text index, and reports answered at once

On SQLite the index is an FTS5 table over the entries' pre-tokenized terms (external
content, kept by triggers); on PostgreSQL a weighted tsvector column with a GIN index, written
by storage.kb with the entry.

Revision ID: 0008_kb
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_kb"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_INDEX = (
    # unicode61 keeps a run of letters (CJK ones too) as one token: the terms are joined by
    # spaces, so each pre-made term (数据, 据库, print) is one FTS5 token. Only entries in use
    # (not retired) are in the index.
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title_terms, body_terms, content='kb_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    # How many entries hold each term: storage.kb leaves the commonest terms of a long search
    # out of the ranking when the rarer ones are enough (bot.domain.kb.ranked_terms).
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
)
_POSTGRESQL_INDEX = (
    "ALTER TABLE kb_entries ADD COLUMN search_vector tsvector",
    "CREATE INDEX ix_kb_entries_search ON kb_entries USING gin (search_vector) "
    "WHERE retired_at IS NULL",
)


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=32), nullable=True),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_entries") as batch:
        batch.create_index("ux_kb_entries_kind_number", ["kind", "number"], unique=True)
    op.create_table(
        "kb_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("entry_kind", sa.String(length=10), nullable=False),
        sa.Column("entry_number", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("kb_answers") as batch:
        batch.create_index("ix_kb_answers_at", ["at"], unique=False)
    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger)),
        [{"name": "kb_article", "value": 0}],
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_INDEX if dialect == "sqlite" else _POSTGRESQL_INDEX:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("kb_fts_insert", "kb_fts_delete", "kb_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS kb_fts_terms")
        op.execute("DROP TABLE IF EXISTS kb_fts")
    op.execute("DELETE FROM counters WHERE name = 'kb_article'")
    with op.batch_alter_table("kb_answers") as batch:
        batch.drop_index("ix_kb_answers_at")
    op.drop_table("kb_answers")
    with op.batch_alter_table("kb_entries") as batch:
        batch.drop_index("ux_kb_entries_kind_number")
    op.drop_table("kb_entries")
