"""Block Kit of the knowledge base: search results, the matches under the report form's
summary, the article form, an entry's own view. User text is escaped for mrkdwn."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.kb import (
    ANSWER_MAX,
    PROBLEM_MAX,
    QUERY_MAX,
    TITLE_MAX,
    Entry,
    EntryKind,
    QueryProblem,
)
from bot.slack.blocks import Block, View, escape, mrkdwn, plain


class KbAction(StrEnum):
    SOLVED = "kb_solved"  # "This solved my problem", in the report form
    OPEN = "kb_open"  # shows one entry in a modal
    ARTICLE_FORM = "kb_article"  # the callback of the add / edit form


OFFER_BLOCK_PREFIX = "kb_offer"
HELP = (
    "Search the knowledge base: `/kb words` (Chinese or English), e.g. `/kb 数据库备份失败`. "
    "Engineers and managers: `/kb add`, `/kb edit KB-3`, `/kb retire KB-3` (or `#12`)."
)
QUERY_PROBLEMS = {
    QueryProblem.EMPTY: "Type what to look for: `/kb words`, e.g. `/kb 打印机 驱动`.",
    QueryProblem.NO_WORDS: "That search has no words in it, only punctuation: try `/kb 登录超时`.",
    QueryProblem.TOO_LONG: f"That search is too long: use at most {QUERY_MAX} characters.",
}
ARTICLE_FIELDS = {"title": "Title", "problem": "Problem", "answer": "Answer"}


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


def _summary_lines(entry: Entry, limit: int) -> list[str]:
    if entry.kind is EntryKind.TICKET:
        lines = []
        if entry.cause.strip():
            lines.append(f"*Cause:* {escape(_clip(entry.cause, limit))}")
        lines.append(f"*Resolution:* {escape(_clip(entry.answer, limit))}")
        return lines
    return [
        f"*Problem:* {escape(_clip(entry.problem, limit))}",
        f"*Answer:* {escape(_clip(entry.answer, limit))}",
    ]


def _open_button(entry: Entry) -> Block:
    return {
        "type": "button",
        "action_id": KbAction.OPEN.value,
        "text": plain("Open"),
        "value": entry.ref.token,
    }


def entry_section(shown: Shown, *, limit: int = 300) -> Block:
    text = "\n".join([_title(shown), *_summary_lines(shown.entry, limit)])
    return {"type": "section", "text": mrkdwn(text), "accessory": _open_button(shown.entry)}


def search_results(query: str, found: Sequence[Shown]) -> list[Block]:
    if not found:
        return [
            {
                "type": "section",
                "text": mrkdwn(
                    f"Nothing in the knowledge base matches “{escape(_clip(query, 200))}”. "
                    "`/report` opens a ticket."
                ),
            }
        ]
    blocks: list[Block] = [
        {
            "type": "context",
            "elements": [mrkdwn(f"Knowledge base, best first, for “{escape(_clip(query, 200))}”:")],
        }
    ]
    for shown in found:
        blocks.append(entry_section(shown))
    return blocks


def search_text(found: Sequence[Shown]) -> str:
    return ", ".join(str(s.entry.ref) for s in found) or "No match"


def offer_blocks(found: Sequence[Shown]) -> list[Block]:
    """The matches under the report form's summary, each with "This solved my problem"."""
    if not found:
        return []
    blocks: list[Block] = [
        {
            "type": "context",
            "block_id": f"{OFFER_BLOCK_PREFIX}_intro",
            "elements": [mrkdwn(":bulb: Solved before. Does one of these answer it?")],
        }
    ]
    for index, shown in enumerate(found):
        blocks.append(
            {
                "type": "section",
                "block_id": f"{OFFER_BLOCK_PREFIX}_{index}",
                "text": mrkdwn("\n".join([_title(shown), *_summary_lines(shown.entry, 200)])),
                "accessory": {
                    "type": "button",
                    "action_id": KbAction.SOLVED.value,
                    "text": plain("This solved my problem"),
                    "value": shown.entry.ref.token,
                },
            }
        )
    return blocks


def solved_view(entry: Entry) -> View:
    return {
        "type": "modal",
        "callback_id": "kb_solved_done",
        "title": plain("Report a problem"),
        "close": plain("Close"),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    f":white_check_mark: Glad *{entry.ref}* solved it. No ticket was opened; "
                    "your report counts as answered at once by the knowledge base."
                ),
            }
        ],
    }


def entry_view(shown: Shown) -> View:
    entry = shown.entry
    parts: list[tuple[str, str]] = [
        ("Problem", entry.problem),
        ("Cause", entry.cause),
        ("Resolution" if entry.kind is EntryKind.TICKET else "Answer", entry.answer),
    ]
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(_title(shown))}]
    for label, value in parts:
        if value.strip():
            blocks.append({"type": "section", "text": mrkdwn(f"*{label}*\n{escape(value[:2900])}")})
    if entry.retired:
        blocks.append({"type": "context", "elements": [mrkdwn("_Retired: searches skip it._")]})
    return {
        "type": "modal",
        "callback_id": "kb_entry",
        "title": plain(f"Knowledge base {entry.ref}"[:24]),
        "close": plain("Close"),
        "blocks": blocks,
    }


def article_modal(entry: Entry | None = None, *, title: str = "") -> View:
    """The form of `/kb add` (no entry) and `/kb edit KB-N`."""
    initial = {
        "title": entry.title if entry else title,
        "problem": entry.problem if entry else "",
        "answer": entry.answer if entry else "",
    }
    limits = {"title": TITLE_MAX, "problem": PROBLEM_MAX, "answer": ANSWER_MAX}
    blocks: list[Block] = []
    for key, label in ARTICLE_FIELDS.items():
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": key != "title",
            "max_length": limits[key],
        }
        if initial[key]:
            element["initial_value"] = initial[key][: limits[key]]
        blocks.append({"type": "input", "block_id": key, "label": plain(label), "element": element})
    heading = f"Edit {entry.ref}" if entry else "New article"
    return {
        "type": "modal",
        "callback_id": KbAction.ARTICLE_FORM.value,
        "private_metadata": json.dumps({"number": entry.number if entry else None}),
        "title": plain(heading),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def article_errors_text(errors: Mapping[str, str]) -> dict[str, str]:
    words = {"missing": "Fill this in.", "too_long": "This is too long."}
    return {key: words.get(problem, problem) for key, problem in errors.items()}


def article_saved(entry: Entry, *, edited: bool) -> View:
    verb = "updated" if edited else "added"
    return {
        "type": "modal",
        "callback_id": "kb_article_done",
        "title": plain("Knowledge base"),
        "close": plain("Close"),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    f"Article *{entry.ref}* is {verb}: {escape(_clip(entry.title, 150))}. "
                    f"`/kb edit {entry.ref}` changes it, `/kb retire {entry.ref}` retires it."
                ),
            }
        ],
    }


def related_blocks(found: Sequence[Shown]) -> list[Block]:
    """For an engineer's `/ticket show`: solved problems like this one."""
    if not found:
        return []
    blocks: list[Block] = [
        {"type": "divider"},
        {"type": "context", "elements": [mrkdwn("*Related solved problems*")]},
    ]
    blocks += [entry_section(shown, limit=200) for shown in found]
    return blocks


def confirm_kb_blocks(ticket_number: int, in_kb: bool) -> list[Block]:
    """The line of the reporter's "Is it fixed?" that links the entry the ticket became."""
    if not in_kb:
        return []
    token = f"{EntryKind.TICKET.value}:{ticket_number}"
    return [
        {
            "type": "section",
            "text": mrkdwn(
                f":books: This fix joins the knowledge base as *#{ticket_number}*: "
                f"`/kb` finds it for the next person with the same problem."
            ),
            "accessory": {
                "type": "button",
                "action_id": KbAction.OPEN.value,
                "text": plain("Knowledge base entry"),
                "value": token,
            },
        }
    ]
