"""Block Kit of the knowledge base: search results, the matches under the report form's
summary, the article form, an entry's own view. User text is escaped for mrkdwn; the bot's
words are said by the reader's translator ``tr``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.kb import (
    ANSWER_MAX,
    PROBLEM_MAX,
    QUERY_MAX,
    TITLE_MAX,
    Entry,
    EntryKind,
    QueryProblem,
)
from bot.slack.blocks import Block, View, cut, escape, modal, mrkdwn, pieces, plain, text_input
from bot.slack.i18n import N_, Translator


class KbAction(StrEnum):
    SOLVED = "kb_solved"  # "This solved my problem", in the report form
    OPEN = "kb_open"  # shows one entry in a modal
    ARTICLE_FORM = "kb_article"  # the callback of the add / edit form


OFFER_BLOCK_PREFIX = "kb_offer"
HELP = N_(
    "Search the knowledge base: `/kb words` (Chinese or English), e.g. `/kb 数据库备份失败`. "
    "Engineers and managers: `/kb add`, `/kb edit KB-3`, `/kb retire KB-3` (or `#12`)."
)
QUERY_PROBLEMS = {
    QueryProblem.EMPTY: N_("Type what to look for: `/kb words`, e.g. `/kb 打印机 驱动`."),
    QueryProblem.NO_WORDS: N_(
        "That search has no words in it, only punctuation: try `/kb 登录超时`."
    ),
    QueryProblem.TOO_LONG: N_("That search is too long: use at most %(limit)s characters."),
}
ARTICLE_FIELDS = {"title": N_("Title"), "problem": N_("Problem"), "answer": N_("Answer")}
ARTICLE_PROBLEMS = {"missing": N_("Fill this in."), "too_long": N_("This is too long.")}


def query_problem(tr: Translator, problem: QueryProblem) -> str:
    return tr(QUERY_PROBLEMS[problem], limit=QUERY_MAX)


@dataclass(frozen=True)
class Shown:
    """An entry as shown: the entry and the permalink of its ticket message, where known."""

    entry: Entry
    link: str | None = None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(shown: Shown) -> str:
    entry = shown.entry
    ref = f"*{entry.ref}*"
    if shown.link:
        ref = f"<{shown.link}|{entry.ref}>"
    return f"{ref} {escape(_clip(entry.title, 150))}"


def _summary_lines(tr: Translator, entry: Entry, limit: int) -> list[str]:
    if entry.kind is EntryKind.TICKET:
        lines = []
        if entry.cause.strip():
            lines.append(tr("*Cause:* %(text)s", text=escape(_clip(entry.cause, limit))))
        lines.append(tr("*Resolution:* %(text)s", text=escape(_clip(entry.answer, limit))))
        return lines
    return [
        tr("*Problem:* %(text)s", text=escape(_clip(entry.problem, limit))),
        tr("*Answer:* %(text)s", text=escape(_clip(entry.answer, limit))),
    ]


def _open_button(tr: Translator, entry: Entry) -> Block:
    return {
        "type": "button",
        "action_id": KbAction.OPEN.value,
        "text": plain(tr("Open")),
        "value": entry.ref.token,
    }


def entry_section(tr: Translator, shown: Shown, *, limit: int = 300) -> Block:
    text = "\n".join([_title(shown), *_summary_lines(tr, shown.entry, limit)])
    return {"type": "section", "text": mrkdwn(text), "accessory": _open_button(tr, shown.entry)}


def search_results(tr: Translator, query: str, found: Sequence[Shown]) -> list[Block]:
    asked = escape(_clip(query, 200))
    if not found:
        return [
            {
                "type": "section",
                "text": mrkdwn(
                    tr(
                        "Nothing in the knowledge base matches “%(query)s”. "
                        "`/report` opens a ticket.",
                        query=asked,
                    )
                ),
            }
        ]
    blocks: list[Block] = [
        {
            "type": "context",
            "elements": [mrkdwn(tr("Knowledge base, best first, for “%(query)s”:", query=asked))],
        }
    ]
    for shown in found:
        blocks.append(entry_section(tr, shown))
    return blocks


def search_text(tr: Translator, found: Sequence[Shown]) -> str:
    return ", ".join(str(s.entry.ref) for s in found) or tr("No match")


def offer_blocks(tr: Translator, found: Sequence[Shown]) -> list[Block]:
    """The matches under the report form's summary, each with "This solved my problem"."""
    if not found:
        return []
    blocks: list[Block] = [
        {
            "type": "context",
            "block_id": f"{OFFER_BLOCK_PREFIX}_intro",
            "elements": [mrkdwn(":bulb: " + tr("Solved before. Does one of these answer it?"))],
        }
    ]
    for index, shown in enumerate(found):
        blocks.append(
            {
                "type": "section",
                "block_id": f"{OFFER_BLOCK_PREFIX}_{index}",
                "text": mrkdwn("\n".join([_title(shown), *_summary_lines(tr, shown.entry, 200)])),
                "accessory": {
                    "type": "button",
                    "action_id": KbAction.SOLVED.value,
                    "text": plain(tr("This solved my problem")),
                    "value": shown.entry.ref.token,
                },
            }
        )
    return blocks


def solved_view(tr: Translator, entry: Entry) -> View:
    return {
        "type": "modal",
        "callback_id": "kb_solved_done",
        "title": plain(tr("Report a problem"), 24),
        "close": plain(tr("Close"), 24),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    ":white_check_mark: "
                    + tr(
                        "Glad *%(ref)s* solved it. No ticket was opened; "
                        "your report counts as answered at once by the knowledge base.",
                        ref=str(entry.ref),
                    )
                ),
            }
        ],
    }


def offer_answered(tr: Translator, entry: Entry) -> str:
    """What a mention's "Report this" offer says once the report it opened was answered by
    the knowledge base."""
    return ":white_check_mark: " + tr(
        "Answered by the knowledge base (%(ref)s). No ticket was opened.", ref=str(entry.ref)
    )


def missing_view(tr: Translator, problem: str) -> View:
    """What a button naming an entry the knowledge base does not hold opens instead."""
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(problem)}]
    return modal("kb_missing", tr("Knowledge base"), blocks, close=tr("Close"))


def entry_view(tr: Translator, shown: Shown) -> View:
    entry = shown.entry
    parts: list[tuple[str, str]] = [
        (tr("Problem"), entry.problem),
        (tr("Cause"), entry.cause),
        (tr("Resolution") if entry.kind is EntryKind.TICKET else tr("Answer"), entry.answer),
    ]
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(_title(shown))}]
    for label, value in parts:
        if value.strip():
            # whole, as typed: in as many plain-text sections as Slack's 3,000 characters take
            blocks.append({"type": "section", "text": mrkdwn(f"*{label}*")})
            blocks += [{"type": "section", "text": plain(part)} for part in pieces(value, 3000)]
    if entry.retired:
        retired = tr("_Retired: searches skip it._")
        blocks.append({"type": "context", "elements": [mrkdwn(retired)]})
    return modal(
        "kb_entry", tr("Knowledge base %(ref)s", ref=str(entry.ref)), blocks, close=tr("Close")
    )


def article_modal(tr: Translator, entry: Entry | None = None, *, title: str = "") -> View:
    """The form of `/kb add` (no entry; ``title``, what followed `add`) and `/kb edit KB-N`.
    Words too long for a title fill the problem whole, and the title their beginning."""
    longer = len(title) > TITLE_MAX
    initial = {
        "title": entry.title if entry else cut(title, TITLE_MAX),
        "problem": entry.problem if entry else (title if longer else ""),
        "answer": entry.answer if entry else "",
    }
    limits = {"title": TITLE_MAX, "problem": PROBLEM_MAX, "answer": ANSWER_MAX}
    blocks = [
        text_input(
            key,
            tr(label),
            multiline=key != "title",
            max_length=limits[key],
            initial=initial[key],
        )
        for key, label in ARTICLE_FIELDS.items()
    ]
    heading = tr("Edit %(ref)s", ref=str(entry.ref)) if entry else tr("New article")
    return modal(
        KbAction.ARTICLE_FORM.value,
        heading,
        blocks,
        submit=tr("Save"),
        close=tr("Cancel"),
        metadata={"number": entry.number if entry else None},
    )


def article_errors_text(tr: Translator, errors: Mapping[str, str]) -> dict[str, str]:
    return {
        key: tr(ARTICLE_PROBLEMS[problem]) if problem in ARTICLE_PROBLEMS else problem
        for key, problem in errors.items()
    }


def article_saved(tr: Translator, entry: Entry, *, edited: bool) -> View:
    said = N_(
        "Article *%(ref)s* is updated: %(title)s. "
        "`/kb edit %(ref)s` changes it, `/kb retire %(ref)s` retires it."
    )
    if not edited:
        said = N_(
            "Article *%(ref)s* is added: %(title)s. "
            "`/kb edit %(ref)s` changes it, `/kb retire %(ref)s` retires it."
        )
    text = tr(said, ref=str(entry.ref), title=escape(_clip(entry.title, 150)))
    return {
        "type": "modal",
        "callback_id": "kb_article_done",
        "title": plain(tr("Knowledge base"), 24),
        "close": plain(tr("Close"), 24),
        "blocks": [{"type": "section", "text": mrkdwn(text)}],
    }


def related_blocks(tr: Translator, found: Sequence[Shown]) -> list[Block]:
    """For an engineer's `/ticket show`: solved problems like this one."""
    if not found:
        return []
    blocks: list[Block] = [
        {"type": "divider"},
        {"type": "context", "elements": [mrkdwn(tr("*Related solved problems*"))]},
    ]
    blocks += [entry_section(tr, shown, limit=200) for shown in found]
    return blocks


def confirm_kb_blocks(tr: Translator, ticket_number: int, in_kb: bool) -> list[Block]:
    """The line of the reporter's "Is it fixed?" that links the entry the ticket became."""
    if not in_kb:
        return []
    token = f"{EntryKind.TICKET.value}:{ticket_number}"
    return [
        {
            "type": "section",
            "text": mrkdwn(
                ":books: "
                + tr(
                    "This fix joins the knowledge base as *#%(number)s*: "
                    "`/kb` finds it for the next person with the same problem.",
                    number=ticket_number,
                )
            ),
            "accessory": {
                "type": "button",
                "action_id": KbAction.OPEN.value,
                "text": plain(tr("Knowledge base entry")),
                "value": token,
            },
        }
    ]
