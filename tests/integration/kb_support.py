"""What the knowledge base's integration tests share: the corpus stored as solved tickets,
a ticket resolved through the steps, and the index's rows."""

from __future__ import annotations

from sqlalchemy import text

from bot.domain.kb import KEEP_OUT, EntryKind, EntryRef
from bot.domain.workflow import Step
from bot.services.context import Context
from bot.services.steps import run_step
from storage import kb as kb_store
from tests.kb_corpus import SOLVED


async def store_corpus(ctx: Context, first: int = 1000) -> dict[int, str]:
    """The corpus as solved tickets numbered from ``first`` (above the tickets a test opens)."""
    keys: dict[int, str] = {}
    async with ctx.db.write() as conn:
        for number, solved in enumerate(SOLVED, start=first):
            await kb_store.put_entry(
                conn,
                EntryRef(EntryKind.TICKET, number),
                kb_store.EntryText(solved.summary, solved.details, solved.cause, solved.resolution),
                author_id="U0ENG1",
                now=ctx.clock.now(),
            )
            keys[number] = solved.key
    return keys


async def resolve(ctx: Context, number: int, text: str, *, keep_out: bool = False) -> None:
    await run_step(ctx, number=number, step=Step("ack"), user_id="U0ENG1")
    await run_step(
        ctx, number=number, step=Step("cause", text="备份目录磁盘空间不足"), user_id="U0ENG1"
    )
    await run_step(
        ctx,
        number=number,
        step=Step("resolve", text=text, details=((KEEP_OUT, keep_out),)),
        user_id="U0ENG1",
    )


async def index_rows(ctx: Context) -> list[list[tuple[object, ...]]]:
    found = []
    async with ctx.db.read() as conn:
        for statement in (
            "SELECT term, entry_id, tf, length FROM kb_postings ORDER BY term, entry_id",
            "SELECT term, entries FROM kb_terms ORDER BY term",
            "SELECT name, value FROM counters WHERE name IN ('kb_entries', 'kb_length') "
            "ORDER BY name",
        ):
            found.append([tuple(row) for row in await conn.execute(text(statement))])
    return found
