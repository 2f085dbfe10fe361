"""The knowledge base's index on a real database (SQLite, or PostgreSQL under
`bash .ci/test-postgres.sh`): every write keeps the postings a rebuild makes, writers at
once do not deadlock, the sum is the domain's BM25, and migration 0012_kb_postings builds the
index from the entries already there and goes back."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.config import Config
from bot.domain.kb import (
    TERM_POSTINGS_CAP,
    EntryKind,
    EntryRef,
    bm25_scores,
    index_terms,
    query_terms,
)
from bot.domain.kb_markdown import ArticleFile
from bot.domain.workflow import Step
from bot.services import kb
from bot.services.context import Context
from bot.services.kb_search import KbSearches
from bot.services.steps import run_step
from storage import kb as kb_store
from storage import kb_postings
from storage.db import Database
from storage.migrate import alembic_config
from tests.fakes import FakeClock
from tests.integration.kb_support import index_rows, resolve, store_corpus
from tests.integration.support import opened
from tests.kb_corpus import SOLVED


@pytest.fixture
def kb_ctx(ctx: Context) -> Context:
    """The test's database, its searches batched as the running bot's are (bot.app.build)."""
    return Context(db=ctx.db, config=ctx.config, clock=ctx.clock, kb_searches=KbSearches(ctx.db))


async def test_every_write_keeps_the_postings_a_rebuild_would_make(kb_ctx: Context) -> None:
    """The postings, term counts and totals, kept one write at a time (tickets
    resolved, reopened and resolved again, articles added, edited, retired, imported), are
    exactly what building them again from the entries gives."""
    await store_corpus(kb_ctx)
    number = await opened(kb_ctx, 1)
    await resolve(kb_ctx, number, "清理旧备份并扩容磁盘")
    await run_step(kb_ctx, number=number, step=Step("reopen"), user_id="U0ENG1")
    await run_step(
        kb_ctx, number=number, step=Step("resolve", text="换了一块新硬盘"), user_id="U0ENG1"
    )
    first = await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="打印机脱机", problem="所有电脑显示脱机", answer="固定IP"
    )
    await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="VPN drops", problem="every ten minutes", answer="keepalive"
    )
    await kb.edit_article(
        kb_ctx,
        user_id="U0ENG2",
        number=first.number,
        title="打印机脱机 offline",
        problem="打印机 printer printer printer",
        answer="固定IP",
    )
    await kb.retire(kb_ctx, user_id="U0ENG1", ref=EntryRef(EntryKind.TICKET, 1000))
    await kb.import_articles(kb_ctx, [ArticleFile(2, "VPN 断线", "十分钟", "保活", False)])
    kept = await index_rows(kb_ctx)
    assert kept[0] and kept[1] and len(kept[2]) == 2
    async with kb_ctx.db.write() as conn:
        await kb_postings.rebuild(conn)
    assert await index_rows(kb_ctx) == kept
    # and the retired ticket holds no postings
    async with kb_ctx.db.read() as conn:
        retired = await conn.scalar(
            text(
                "SELECT count(*) FROM kb_postings p JOIN kb_entries e ON e.id = p.entry_id "
                "WHERE e.retired_at IS NOT NULL"
            )
        )
    assert retired == 0


async def test_writers_at_once_queue_for_the_index_and_keep_it_right(kb_ctx: Context) -> None:
    """Eight transactions at once (replicas resolving tickets), each writing three entries
    that share their commonest terms, in different orders: none deadlocks (on PostgreSQL;
    SQLite has one writer at a time), and the index is what a rebuild makes."""
    await store_corpus(kb_ctx)

    async def writer(n: int) -> None:
        picks = [SOLVED[(n * 3 + k) % len(SOLVED)] for k in range(3)]
        async with kb_ctx.db.write() as conn:
            for k, solved in enumerate(picks if n % 2 else reversed(picks)):
                await kb_store.put_entry(
                    conn,
                    EntryRef(EntryKind.TICKET, 5000 + n * 3 + k),
                    kb_store.EntryText(solved.summary, solved.details, "", solved.resolution),
                    author_id="U0ENG1",
                    now=kb_ctx.clock.now(),
                )
            await kb_store.retire(
                conn, EntryRef(EntryKind.TICKET, 1000 + n), by="U0ENG1", now=kb_ctx.clock.now()
            )

    await asyncio.gather(*(writer(n) for n in range(8)))
    kept = await index_rows(kb_ctx)
    assert ("kb_entries", len(SOLVED) + 8 * 3 - 8) in kept[2]
    async with kb_ctx.db.write() as conn:
        await kb_postings.rebuild(conn)
    assert await index_rows(kb_ctx) == kept


async def test_the_index_ranks_by_the_bm25_the_domain_defines(kb_ctx: Context) -> None:
    """The postings' sum is :func:`bot.domain.kb.bm25_scores` (here every entry is a
    candidate, so the candidates' average length is all entries')."""
    texts = [
        ("数据库备份失败", "凌晨备份没有生成文件", "磁盘满", "清理磁盘"),
        ("备份", "备份 备份 数据库", "", "重做备份"),
        ("打印机脱机", "打印失败", "IP 变了", "固定 IP"),
        ("登录失败", "数据库连接超时", "连接池满", "加大连接池"),
    ]
    async with kb_ctx.db.write() as conn:
        for number, (title, problem, cause, answer) in enumerate(texts, start=1):
            await kb_store.put_entry(
                conn,
                EntryRef(EntryKind.TICKET, number),
                kb_store.EntryText(title, problem, cause, answer),
                author_id="U0ENG1",
                now=kb_ctx.clock.now(),
            )
    terms = query_terms("数据库备份失败了")
    async with kb_ctx.db.read() as conn:
        stats = await kb_store.index_stats(conn, terms)
        assert stats.entries == len(texts)
        # one statement reads what the two reads of counts and totals read
        assert stats.counts == await kb_postings.counts(conn, terms) and stats.counts
        assert stats.totals == await kb_postings.totals(conn)
        assert stats.totals.length > 0
        params = kb_postings.search_params(terms, stats.counts, stats.totals, limit=10)
        rows = (await conn.execute(kb_postings.search_statement(len(terms)), params)).all()
    assert params["cap"] == TERM_POSTINGS_CAP
    docs = [(index_terms(*t).title, index_terms(*t).body) for t in texts]
    expected = bm25_scores(terms, stats.counts, stats.entries, docs)
    found = {int(row.number): -float(row.score) for row in rows}
    assert set(found) == {n for n, score in enumerate(expected, start=1) if score > 0}
    for number, score in found.items():
        assert score == pytest.approx(expected[number - 1], rel=1e-9)
    best_first = sorted(found, key=lambda n: -expected[n - 1])
    assert [int(row.number) for row in rows] == best_first


async def test_migration_0012_builds_the_postings_of_the_entries_there_and_goes_back(
    empty_db_url: str, config: Config, clock: FakeClock
) -> None:
    """Entries stored before 0012_kb_postings (with 0008's index: SQLite's FTS5, PostgreSQL's
    tsvector) are found after it, by the postings it built from their stored terms;
    downgraded, 0008's index is back and finds them."""
    db = Database(empty_db_url)

    async def to(revision: str, *, down: bool = False) -> None:
        def run(connection: Connection) -> None:
            alembic = alembic_config(empty_db_url)
            alembic.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(alembic, revision)

        async with db.engine.begin() as conn:
            await conn.run_sync(run)

    await to("0011_next_due")
    async with db.write() as conn:
        for number, solved in enumerate(SOLVED[:12], start=1):
            terms = index_terms(solved.summary, solved.details, solved.cause, solved.resolution)
            await conn.execute(
                text(
                    "INSERT INTO kb_entries (kind, number, title, problem, cause, answer, "
                    "author_id, created_at, updated_at, retired_at, title_terms, body_terms) "
                    "VALUES ('ticket', :n, :t, :p, :c, :a, 'U0ENG1', :now, :now, :retired, "
                    ":tt, :bt)"
                ),
                {
                    "n": number,
                    "t": solved.summary,
                    "p": solved.details,
                    "c": solved.cause,
                    "a": solved.resolution,
                    "now": clock.now(),
                    "retired": clock.now() if number == 2 else None,
                    "tt": " ".join(terms.title),
                    "bt": " ".join(terms.body),
                },
            )
    await to("head")
    ctx = Context(db=db, config=config, clock=clock)
    built = await index_rows(ctx)
    assert built[2] == [("kb_entries", 11), ("kb_length", built[2][1][1])]
    async with db.write() as conn:
        await kb_postings.rebuild(conn)
    assert await index_rows(ctx) == built
    assert (await kb.search(ctx, SOLVED[0].summary))[0].entry.number == 1
    assert 2 not in [m.entry.number for m in await kb.search(ctx, SOLVED[1].summary)]  # retired
    await to("0011_next_due", down=True)
    term = index_terms(SOLVED[0].summary, "", "", "").title[0]
    async with db.read() as conn:
        if db.is_sqlite:
            statement = "SELECT rowid FROM kb_fts WHERE kb_fts MATCH :q"
            query = f'"{term}"'
        else:
            statement = "SELECT id FROM kb_entries WHERE search_vector @@ CAST(:q AS tsquery)"
            query = f"'{term}'"
        found = [int(row[0]) for row in await conn.execute(text(statement), {"q": query})]
    assert found  # the entries' ids (1 is the first solved problem's)
    assert 1 in found
    await db.close()


async def test_postings_not_as_stored_are_still_taken_out(
    kb_ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    """A posting whose key is not what the entry's stored terms make (a hand edit, a bug) is
    still removed when the entry changes: by its term and entry, with a warning."""
    article = await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="打印机脱机", problem="打印失败", answer="固定IP"
    )
    async with kb_ctx.db.write() as conn:
        changed = await conn.execute(
            text("UPDATE kb_postings SET tf = tf + 7 WHERE term = :term"), {"term": "打印"}
        )
        assert changed.rowcount == 1
    await kb.retire(kb_ctx, user_id="U0ENG1", ref=article.ref)
    assert "postings of entry" in caplog.text
    async with kb_ctx.db.read() as conn:
        left = await conn.scalar(text("SELECT count(*) FROM kb_postings"))
    assert left == 0
    assert await kb.search(kb_ctx, "打印") == []
