"""The knowledge base on a real database: ranking over the test corpus, resolved tickets
joining and leaving, articles, imports, reports answered at once (the index itself:
test_kb_index.py).

Each test has a database of its own: a SQLite file, or a PostgreSQL database when
ESCALATOR_TEST_DATABASE names a server (`bash .ci/test-postgres.sh .venv/bin/pytest …`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.kb import BadQuery, EntryKind, EntryRef, QueryProblem
from bot.domain.kb_markdown import ArticleFile
from bot.domain.tickets import ReportDraft
from bot.domain.workflow import Step
from bot.errors import UserError
from bot.services import kb
from bot.services.context import Context
from bot.services.intake import report
from bot.services.kb_search import KbSearches
from bot.services.steps import load, run_step
from bot.sla.policy import Severity
from tests.fakes import FakeClock
from tests.integration.kb_support import resolve, store_corpus
from tests.integration.support import opened
from tests.kb_corpus import SOLVED, WORDINGS


@pytest.fixture
def kb_ctx(ctx: Context) -> Context:
    """The test's database, its searches batched as the running bot's are (bot.app.build)."""
    return Context(db=ctx.db, config=ctx.config, clock=ctx.clock, kb_searches=KbSearches(ctx.db))


async def test_the_right_problem_is_in_the_first_three_for_85_percent_of_new_wordings(
    kb_ctx: Context,
) -> None:
    keys = await store_corpus(kb_ctx)
    assert len(SOLVED) >= 40 and len(WORDINGS) >= 40
    searched = offered = 0
    for wording, key in WORDINGS:
        searched += key in [keys[m.entry.number] for m in (await kb.search(kb_ctx, wording))[:3]]
        offered += key in [keys[m.entry.number] for m in await kb.offer(kb_ctx, wording)]
    assert searched / len(WORDINGS) >= 0.85
    assert offered / len(WORDINGS) >= 0.85


async def test_searches_without_the_batch_find_the_same(kb_ctx: Context, ctx: Context) -> None:
    """The command line's context has no batch of searches: each reads on its own."""
    await store_corpus(kb_ctx)
    assert ctx.kb_searches is None
    for wording, _ in WORDINGS[:10]:
        assert await kb.search(ctx, wording) == await kb.search(kb_ctx, wording)
        assert await kb.offer(ctx, wording) == await kb.offer(kb_ctx, wording)


async def test_matches_come_best_first_and_at_most_five(kb_ctx: Context) -> None:
    keys = await store_corpus(kb_ctx)
    found = await kb.search(kb_ctx, "数据库备份失败")
    assert 1 < len(found) <= 5
    assert keys[found[0].entry.number] == "db_backup_fail"
    # the report form offers at most three, each sharing enough of the words
    assert len(await kb.offer(kb_ctx, "数据库备份失败")) <= 3
    # a word that shares nothing finds nothing
    assert await kb.search(kb_ctx, "气象卫星") == []


async def test_one_chinese_character_finds_the_words_that_hold_it(kb_ctx: Context) -> None:
    """The index holds a run of Chinese as its pairs (数据库: 数据 据库); a search of one
    character finds them all the same, as a user typing `/kb 卡` expects."""
    db = await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="数据库连接失败", problem="启动报错", answer="开防火墙"
    )
    slow = await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="系统很卡", problem="页面卡顿", answer="清缓存"
    )
    await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="打印机脱机", problem="显示脱机", answer="固定IP"
    )
    assert [m.entry.ref for m in await kb.search(kb_ctx, "卡")] == [slow.ref]
    assert [m.entry.ref for m in await kb.search(kb_ctx, "库")] == [db.ref]
    assert [m.entry.ref for m in await kb.search(kb_ctx, "连")] == [db.ref]
    assert [m.entry.ref for m in await kb.search(kb_ctx, "卡 VPN")] == [slow.ref]
    assert await kb.search(kb_ctx, "鸟") == []


async def test_a_search_for_an_entrys_reference_finds_that_entry(kb_ctx: Context) -> None:
    """`/kb KB-3` (as a colleague wrote it) shows KB-3, not the entries holding a 3."""
    for n in range(12):
        await kb.add_article(
            kb_ctx, user_id="U0ENG1", title=f"升级到 3.{n} 失败", problem="报错", answer="重装"
        )
    number = await opened(kb_ctx, 1)
    await resolve(kb_ctx, number, "清理旧备份并扩容磁盘")
    for text, ref in (
        ("KB-3", EntryRef(EntryKind.ARTICLE, 3)),
        (" kb-12 ", EntryRef(EntryKind.ARTICLE, 12)),
        ("ＫＢ－７", EntryRef(EntryKind.ARTICLE, 7)),
        (f"#{number}", EntryRef(EntryKind.TICKET, number)),
    ):
        assert [m.entry.ref for m in await kb.search(kb_ctx, text)] == [ref], text
    await kb.retire(kb_ctx, user_id="U0ENG1", ref=EntryRef(EntryKind.ARTICLE, 3))
    assert EntryRef(EntryKind.ARTICLE, 3) not in [
        m.entry.ref for m in await kb.search(kb_ctx, "KB-3")
    ]
    assert await kb.search(kb_ctx, "KB-99") == []


async def test_bad_searches_read_nothing(kb_ctx: Context) -> None:
    for bad, problem in (
        ("", QueryProblem.EMPTY),
        ("？！…", QueryProblem.NO_WORDS),
        ("备份" * 2500, QueryProblem.TOO_LONG),
    ):
        with pytest.raises(BadQuery) as refused:
            await kb.search(kb_ctx, bad)
        assert refused.value.problem is problem
    assert await kb.offer(kb_ctx, "？！…") == []


async def test_a_resolved_ticket_joins_and_leaves_when_reopened(kb_ctx: Context) -> None:
    number = await opened(kb_ctx, 1)
    await resolve(kb_ctx, number, "清理旧备份并扩容磁盘")
    (match,) = await kb.search(kb_ctx, "磁盘空间不足")
    assert match.entry.ref == EntryRef(EntryKind.TICKET, number)
    assert match.entry.cause == "备份目录磁盘空间不足"
    assert match.entry.answer == "清理旧备份并扩容磁盘"
    assert match.entry.title == "problem 1"
    await run_step(kb_ctx, number=number, step=Step("reopen"), user_id="U0ENG1")
    assert await kb.search(kb_ctx, "磁盘空间不足") == []
    assert (await kb.entry(kb_ctx, match.entry.ref)).retired
    await run_step(
        kb_ctx, number=number, step=Step("resolve", text="换了一块新硬盘"), user_id="U0ENG1"
    )
    (again,) = await kb.search(kb_ctx, "新硬盘")
    assert again.entry.ref == match.entry.ref and not again.entry.retired
    assert await kb.search(kb_ctx, "扩容") == []  # the first resolution's words are gone
    # an engineer may retire a solved ticket's entry as an article's (`/kb retire #N`)
    await kb.retire(kb_ctx, user_id="U0ENG2", ref=again.entry.ref)
    assert await kb.search(kb_ctx, "新硬盘") == []


async def test_the_checklist_can_leave_a_ticket_out(kb_ctx: Context) -> None:
    number = await opened(kb_ctx, 2)
    await resolve(kb_ctx, number, "客户的私有配置，不适合公开", keep_out=True)
    assert await kb.search(kb_ctx, "私有配置") == []
    with pytest.raises(UserError):
        await kb.entry(kb_ctx, EntryRef(EntryKind.TICKET, number))


async def reported(ctx: Context, summary: str, details: str) -> int:
    draft = ReportDraft(summary, details, "", Severity.C, "U0REP", None)
    return (await report(ctx, draft=draft, intake_key=f"view:{summary}")).ticket.number


async def test_related_solved_tickets_leave_out_the_ticket_itself(kb_ctx: Context) -> None:
    keys = await store_corpus(kb_ctx)
    number = await reported(kb_ctx, "数据库备份失败", "凌晨自动备份没有生成文件")
    await resolve(kb_ctx, number, "清理磁盘")
    related = await kb.related(kb_ctx, await load(kb_ctx, number))
    assert related and len(related) <= 3
    assert EntryRef(EntryKind.TICKET, number) not in [m.entry.ref for m in related]
    assert keys[related[0].entry.number] == "db_backup_fail"


async def test_articles_are_added_edited_and_retired_by_engineers_only(kb_ctx: Context) -> None:
    with pytest.raises(UserError, match="engineers and managers"):
        await kb.add_article(kb_ctx, user_id="U0REP", title="t", problem="p", answer="a")
    first = await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="打印机脱机", problem="所有电脑显示脱机", answer="固定IP"
    )
    second = await kb.add_article(
        kb_ctx, user_id="U0MGR1", title="VPN drops", problem="every ten minutes", answer="keepalive"
    )
    assert (str(first.ref), str(second.ref)) == ("KB-1", "KB-2")
    assert [m.entry.ref for m in await kb.search(kb_ctx, "打印机脱机")] == [first.ref]
    edited = await kb.edit_article(
        kb_ctx,
        user_id="U0ENG2",
        number=1,
        title="扫描仪脱机",
        problem="扫描仪不可用",
        answer="重装",
    )
    assert edited.title == "扫描仪脱机"
    assert await kb.search(kb_ctx, "打印机") == []  # the old words are out of the index
    assert [m.entry.ref for m in await kb.search(kb_ctx, "扫描仪")] == [first.ref]
    with pytest.raises(UserError, match="engineers and managers"):
        await kb.retire(kb_ctx, user_id="U0CUST", ref=first.ref)
    await kb.retire(kb_ctx, user_id="U0ENG1", ref=first.ref)
    assert await kb.search(kb_ctx, "扫描仪") == []
    with pytest.raises(UserError, match="retired already"):
        await kb.retire(kb_ctx, user_id="U0ENG1", ref=first.ref)
    with pytest.raises(UserError, match="no knowledge-base entry KB-9"):
        await kb.retire(kb_ctx, user_id="U0ENG1", ref=EntryRef(EntryKind.ARTICLE, 9))
    with pytest.raises(UserError, match="no knowledge-base entry KB-9"):
        await kb.edit_article(
            kb_ctx, user_id="U0ENG1", number=9, title="t", problem="p", answer="a"
        )


async def test_reports_answered_at_once_are_counted_once_by_month(
    kb_ctx: Context, clock: FakeClock
) -> None:
    article = await kb.add_article(
        kb_ctx, user_id="U0ENG1", title="登录超时", problem="转圈", answer="重启认证服务"
    )
    # 2026-11-30 23:30 in Shanghai is still November there (15:30 UTC)
    await clock.advance(datetime(2026, 11, 30, 15, 30, tzinfo=UTC) - clock.now())
    for key in ("kb:V1", "kb:V1", "kb:V2"):  # V1 twice: Slack's retry of one click
        await kb.solved_by(
            kb_ctx, user_id="U0REP", ref=article.ref, summary="登录很慢", request_key=key
        )
    await clock.advance(timedelta(hours=1))  # 00:30 on 1 December in Shanghai
    await kb.solved_by(kb_ctx, user_id="U0REP", ref=article.ref, summary="x", request_key="kb:V3")
    assert await kb.answered_at_once(kb_ctx, "2026-11") == 2
    assert await kb.answered_at_once(kb_ctx, "2026-12") == 1
    assert await kb.answered_at_once(kb_ctx, "") == 1  # this month, in the configured zone
    with pytest.raises(UserError):
        await kb.solved_by(
            kb_ctx,
            user_id="U0REP",
            ref=EntryRef(EntryKind.ARTICLE, 99),
            summary="x",
            request_key="kb:V4",
        )
    assert await kb.answered_at_once(kb_ctx, "2026-12") == 1


async def test_imports_keep_the_index_right(kb_ctx: Context) -> None:
    def article(number: int | None, title: str, *, retired: bool = False) -> ArticleFile:
        return ArticleFile(number, title, "问题", "答案", retired)

    await kb.import_articles(kb_ctx, [article(4, "打印机脱机"), article(None, "VPN 断线")])
    assert [str(m.entry.ref) for m in await kb.search(kb_ctx, "打印机脱机")] == ["KB-4"]
    assert [str(m.entry.ref) for m in await kb.search(kb_ctx, "vpn")] == ["KB-5"]
    # KB-4 imported again with new words: found by them, no longer by the old ones
    await kb.import_articles(kb_ctx, [article(4, "扫描仪报错")])
    assert await kb.search(kb_ctx, "打印机脱机") == []
    assert [str(m.entry.ref) for m in await kb.search(kb_ctx, "扫描仪")] == ["KB-4"]
    # imported retired: out of searches, whether it was in use or new
    await kb.import_articles(kb_ctx, [article(4, "扫描仪报错", retired=True)])
    await kb.import_articles(kb_ctx, [article(9, "传真机卡纸", retired=True)])
    assert await kb.search(kb_ctx, "扫描仪") == []
    assert await kb.search(kb_ctx, "传真机") == []
    assert [str(m.entry.ref) for m in await kb.search(kb_ctx, "vpn")] == ["KB-5"]
