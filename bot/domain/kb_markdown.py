"""Knowledge-base articles as Markdown files, one article a file (``escalator kb import`` and
``export``). Pure: text in, text out.

Two forms are read. With YAML front matter::

    ---
    id: KB-3            # optional: without it the article gets the next number
    title: 数据库备份失败
    retired: false      # optional
    ---
    ## Problem
    ...
    ## Answer
    ...

or without it, the title as the first ``# heading``. The sections are ``## Problem`` (or
问题, 现象, Symptom) and ``## Answer`` (or 解答, 解决方法, Solution, Resolution). Export writes the
first form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from bot.domain.kb import EntryKind, article_errors, parse_ref
from bot.errors import Message

PROBLEM_HEADINGS = frozenset({"problem", "symptom", "symptoms", "问题", "现象", "问题描述"})
ANSWER_HEADINGS = frozenset(
    {"answer", "solution", "resolution", "fix", "解答", "解决", "解决方法", "解决办法", "答案"}
)
_FRONT = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(?P<marks>#{1,2})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


class ArticleFileError(ValueError):
    """A file that is not an article; its messages say what is wrong (in English as a
    string, in a reader's language through a translator)."""

    def __init__(self, *messages: Message) -> None:
        self.messages = messages
        super().__init__(", ".join(str(message) for message in messages))


# What is wrong with one of an article's parts (bot.domain.kb.article_errors), by part.
PART_PROBLEMS = {
    ("title", "missing"): Message("no title"),
    ("problem", "missing"): Message("no problem"),
    ("answer", "missing"): Message("no answer"),
    ("title", "too_long"): Message("too long a title"),
    ("problem", "too_long"): Message("too long a problem"),
    ("answer", "too_long"): Message("too long an answer"),
}


@dataclass(frozen=True)
class ArticleFile:
    number: int | None  # the KB number it names, if any
    title: str
    problem: str
    answer: str
    retired: bool = False


def parse_article(source: str) -> ArticleFile:
    meta: dict[str, object] = {}
    body = source.lstrip("\ufeff")
    front = _FRONT.match(body)
    if front is not None:
        try:
            loaded = yaml.safe_load(front.group("yaml")) or {}
        except yaml.YAMLError as exc:
            problem = Message(
                "the front matter is not YAML (%(error)s)", error=exc.__class__.__name__
            )
            raise ArticleFileError(problem) from None
        if not isinstance(loaded, dict):
            raise ArticleFileError(Message("the front matter is not a set of `key: value` lines"))
        meta = {str(k): v for k, v in loaded.items()}
        body = body[front.end() :]
    title = str(meta.get("title") or "").strip()
    sections: dict[str, list[str]] = {}
    current: str | None = None
    last = 0
    for heading in _HEADING.finditer(body):
        text = heading.group("text").strip()
        if heading.group("marks") == "#" and not title and current is None and not sections:
            title = text
        elif heading.group("marks") == "##" and _section(text) is not None:
            pass
        else:
            continue  # any other heading is part of the section's text
        if current is not None:
            sections.setdefault(current, []).append(body[last : heading.start()])
        current = _section(text) if heading.group("marks") == "##" else None
        last = heading.end()
    if current is not None:
        sections.setdefault(current, []).append(body[last:])
    article = ArticleFile(
        number=_number(meta.get("id")),
        title=title,
        problem="\n".join(sections.get("problem", [])).strip(),
        answer="\n".join(sections.get("answer", [])).strip(),
        retired=meta.get("retired") is True,
    )
    errors = article_errors(title=article.title, problem=article.problem, answer=article.answer)
    if errors:
        raise ArticleFileError(*(PART_PROBLEMS[part] for part in errors.items()))
    return article


def _section(heading: str) -> str | None:
    key = heading.strip().rstrip(":：").strip().casefold()
    if key in PROBLEM_HEADINGS:
        return "problem"
    if key in ANSWER_HEADINGS:
        return "answer"
    return None


def _number(raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    ref = parse_ref(str(raw))
    if ref is None or ref.kind is not EntryKind.ARTICLE:
        raise ArticleFileError(
            Message("id %(id)s is not an article number such as KB-3", id=repr(raw))
        )
    return ref.number


def render_article(number: int, title: str, problem: str, answer: str, *, retired: bool) -> str:
    meta: dict[str, object] = {"id": f"KB-{number}", "title": title}
    if retired:
        meta["retired"] = True
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000).strip()
    return (
        f"---\n{front}\n---\n\n## Problem\n\n{problem.strip()}\n\n## Answer\n\n{answer.strip()}\n"
    )


def file_name(number: int) -> str:
    return f"KB-{number}.md"
