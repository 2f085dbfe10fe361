"""``escalator kb import DIR`` and ``escalator kb export DIR``: knowledge-base articles as
Markdown files, one a file (the format: bot/domain/kb_markdown.py and README)."""

from __future__ import annotations

from pathlib import Path

from bot.clock import SystemClock
from bot.config import load_config
from bot.domain.kb_markdown import ArticleFile, ArticleFileError, parse_article
from bot.errors import UserError
from bot.services import kb
from bot.services.context import Context
from bot.settings import Settings
from bot.slack.i18n import C_, Translator
from storage.db import Database
from storage.migrate import migrate

SEPARATOR = C_("between the items of a list", ", ")


def read_articles(folder: Path, tr: Translator) -> list[ArticleFile]:
    """Every ``*.md`` file of the folder, in name order; any bad file stops the import
    before anything is stored, naming each bad file and what is wrong with it (in the
    language of ``tr``)."""
    if not folder.is_dir():
        raise UserError("%(path)s is not a folder", path=folder)
    files = sorted(folder.glob("*.md"))
    if not files:
        raise UserError("%(path)s holds no .md files", path=folder)
    articles: list[ArticleFile] = []
    problems: list[str] = []
    for path in files:
        try:
            articles.append(parse_article(path.read_text(encoding="utf-8")))
        except ArticleFileError as exc:
            said = tr.marked(SEPARATOR).join(tr.say(m) for m in exc.messages)
            problems.append(f"{path.name}: {said}")
        except UnicodeDecodeError:
            problems.append(f"{path.name}: " + tr("not UTF-8 text"))
    numbers = [a.number for a in articles if a.number is not None]
    if len(numbers) != len(set(numbers)):
        problems.append(tr("two files name the same KB number"))
    if problems:
        raise UserError(
            "nothing imported:\n%(problems)s", problems="\n".join(f"  {p}" for p in problems)
        )
    return articles


async def _context(settings: Settings) -> Context:
    db = Database(settings.database_url)
    await migrate(db)
    return Context(db=db, config=load_config(settings.config_path), clock=SystemClock())


async def import_articles(settings: Settings, articles: list[ArticleFile]) -> list[str]:
    ctx = await _context(settings)
    try:
        stored = await kb.import_articles(ctx, articles)
    finally:
        await ctx.db.close()
    return [f"{entry.ref} {entry.title}" for entry in stored]


async def export_articles(settings: Settings) -> list[tuple[str, str]]:
    ctx = await _context(settings)
    try:
        return await kb.export_articles(ctx)
    finally:
        await ctx.db.close()


def write_articles(folder: Path, files: list[tuple[str, str]]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (folder / name).write_text(text, encoding="utf-8")
    return [name for name, _ in files]
