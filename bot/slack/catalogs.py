"""Keeping the message catalogs (``bot/slack/locale``) with Babel: extract every marked text
from the code, update the ``.po`` files (translations kept, new texts added untranslated,
gone texts dropped), compile them to ``.mo``.

``python -m bot.slack.catalogs update`` after changing texts (then translate what is new),
``python -m bot.slack.catalogs compile`` at build time (``make catalogs``). The texts are
marked by these names: ``tr("…")``, ``tr.plural("…", "…", n)``, ``N_("…")`` and, for the
domain's and services' messages, ``Message("…")``, ``UserError("…")`` and its kinds; the
sandbox page's script marks its texts with ``t("…")``.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.slack.i18n import DOMAIN, Language, catalog_path

ROOT = Path(__file__).resolve().parents[1]  # the bot package
KEYWORDS = {
    "tr": None,
    "plural": (1, 2),
    "N_": None,
    "C_": ((1, "c"), 2),
    "Message": None,
    "UserError": None,
    "Refused": None,
    "NotAllowed": None,
    "TooSoon": None,
    "t": None,  # the sandbox page's script
    "tn": (1, 2),
}
METHODS = [
    ("sandbox/standin/**.py", "ignore"),  # the stand-in is Slack, not the bot
    ("**.py", "python"),
    ("sandbox/static/**.js", "javascript"),
    ("sandbox/static/**.html", "bot.slack.catalogs:extract_html"),
]
# The page's own words: <span data-t="Channels">, data-t-placeholder, data-t-title, data-t-label.
_HTML_TEXT = re.compile(rb'data-t(?:-placeholder|-title|-label)?="([^"]+)"')
HEADER = "Escalator: what the bot says, in the languages it speaks (SPEC §9)."


def extract_html(
    fileobj: BinaryIO, keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extraction method for the sandbox page's HTML (its ``data-t`` attributes)."""
    for lineno, line in enumerate(fileobj, start=1):
        for found in _HTML_TEXT.finditer(line):
            yield lineno, "", html.unescape(found.group(1).decode("utf-8")), []


def extract() -> Catalog:
    """Every text the code marks, as an empty catalog (a template)."""
    template = Catalog(domain=DOMAIN, project="escalator", header_comment=f"# {HEADER}")
    found = extract_from_dir(ROOT, METHODS, keywords=KEYWORDS)
    for filename, lineno, message, comments, context in found:
        template.add(
            message,
            None,
            [(f"bot/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return template


def read(language: Language) -> Catalog:
    with catalog_path(language).open("rb") as source:
        return read_po(source, locale=language.catalog, domain=DOMAIN)


def update() -> None:
    """Bring each ``.po`` up to the code: new texts added (in English, the English
    catalog's translation is the text itself), gone texts dropped."""
    template = extract()
    for language in Language:
        path = catalog_path(language)
        if path.exists():
            catalog = read(language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language.catalog, domain=DOMAIN)
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # a file that changes only where its texts do
        catalog.obsolete.clear()
        catalog.fuzzy = False
        catalog.project = "escalator"
        catalog.version = "1"
        catalog.copyright_holder = "Escalator"
        catalog.msgid_bugs_address = ""
        catalog.last_translator = "Escalator"
        catalog.language_team = language.value
        catalog.header_comment = f"# {HEADER}\n# {language.value}"
        if language is Language.EN:
            for message in catalog:
                _say_as_written(message)
        with path.open("wb") as out:
            # no source lines: they would change (and collide in merges) with every edit
            write_po(out, catalog, width=100, no_location=True)


def _say_as_written(message: Message) -> None:
    """An English message not translated yet reads as written in the code."""
    if isinstance(message.id, tuple):
        if not isinstance(message.string, tuple) or not all(message.string):
            message.string = tuple(message.id)
    elif message.id and not message.string:
        message.string = message.id


def compile_all() -> None:
    for language in Language:
        with catalog_path(language, ".mo").open("wb") as out:
            write_mo(out, read(language))


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
    elif argv[1:] == ["compile"]:
        compile_all()
    else:
        print("usage: python -m bot.slack.catalogs update|compile", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
