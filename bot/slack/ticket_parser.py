"""Reading `/ticket …` text into a step on a ticket, with the right form for every mistake."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.domain.workflow import Step
from bot.errors import Message, UserError
from bot.sla.policy import Severity
from bot.slack.blocks import quoted
from bot.slack.delivered import typed
from bot.slack.i18n import N_, Translator

# The right form of each subcommand, in the reader's language (the Chinese catalog writes
# the Chinese name: "/ticket 确认 N").
USAGE: dict[str, str] = {
    "ack": N_("/ticket ack N"),
    "take": N_("/ticket take N"),
    "assign": N_("/ticket assign N @user"),
    "cause": N_("/ticket cause N what caused it"),
    "plan": N_("/ticket plan N the solution [by YYYY-MM-DD]"),
    "resolve": N_("/ticket resolve N what was done"),
    "wait": N_("/ticket wait N"),
    "resume": N_("/ticket resume N"),
    "severity": N_("/ticket severity N A|B|C|D why"),
    "accept": N_("/ticket accept N"),
    "decline": N_("/ticket decline N why"),
    "note": N_("/ticket note N text"),
    "close": N_("/ticket close N"),
    "reopen": N_("/ticket reopen N"),
    "show": N_("/ticket show N"),
    "list": N_("/ticket list [open|mine|breaching|A|B|C|D]"),
    "report": N_("/ticket report [YYYY-MM]"),
    "help": N_("/ticket help"),
}
# SPEC §6: each subcommand's Chinese name works the same, whatever the language.
CHINESE_NAMES: dict[str, str] = {
    "ack": "确认",
    "take": "认领",
    "assign": "指派",
    "cause": "原因",
    "plan": "方案",
    "resolve": "解决",
    "wait": "等待",
    "resume": "继续",
    "severity": "定级",
    "accept": "受理",
    "decline": "拒绝",
    "note": "备注",
    "close": "关闭",
    "reopen": "重开",
    "show": "查看",
    "list": "列表",
    "report": "月报",
    "help": "帮助",
}
_VERBS = {**{verb: verb for verb in USAGE}, **{zh: verb for verb, zh in CHINESE_NAMES.items()}}
NEEDS_TEXT = frozenset({"cause", "plan", "severity", "decline", "note"})
LIST_FILTERS = ("open", "mine", "breaching", "A", "B", "C", "D")
# The filters' Chinese names (the Chinese help writes them), as the subcommands have theirs.
CHINESE_FILTERS = {"未关闭": "open", "我的": "mine", "超时": "breaching"}
_NUMBER = re.compile(r"^#?(\d{1,9})$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
# "by 2026-12-01" (in Chinese "截止 2026-12-01"), and as people also write it: 2026/12/1,
# 2026.12.01, 2026年12月1日, in full-width digits too
_BY_DATE = re.compile(
    r"(?:^|\s+)(?:by\s+|截止\s*)(?P<date>(?P<y>\d{4})\s*[-/.年－／．]\s*(?P<m>\d{1,2})\s*[-/.月－／．]"
    r"\s*(?P<d>\d{1,2})\s*日?)\s*$",
    re.IGNORECASE,
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class TicketCommand:
    """A parsed `/ticket` line: a step on ticket ``number``, or a query (show/list/report/help)."""

    verb: str
    number: int | None = None
    step: Step | None = None
    argument: str = ""


# What ends a command's word: any space (a full-width one, 　, too) or the punctuation people
# type after a word, in Chinese or not ("确认 1。", "原因 1：磁盘满了", "cause 1: disk full");
# not ";", which ends the entities Slack delivers ("&lt;").
_WORD_END = r"\s:：,，。、；"
_FIRST_WORD = re.compile(rf"[{_WORD_END}]*([^{_WORD_END}]*)[{_WORD_END}]*(.*)", re.DOTALL)


def first_word(text: str) -> tuple[str, str]:
    """The first word of ``text`` and the rest (as typed), at a space or a punctuation mark."""
    match = _FIRST_WORD.match(text)
    assert match is not None  # every part of the pattern may be empty
    return match.group(1), match.group(2)


def verb_of(word: str) -> str | None:
    """The subcommand a word names, in English or Chinese (``确认`` → ``ack``)."""
    return _VERBS.get(word.lower())


def help_text(tr: Translator) -> str:
    """Every subcommand's form, with its name in the other language beside it."""
    lines = [tr("Ticket commands (N is a ticket number, `42` or `#42`):")]
    for verb, usage in USAGE.items():
        other = verb if tr(usage).split()[1:2] != [verb] else CHINESE_NAMES[verb]
        lines.append(f"• `{tr(usage)}` (`{other}`)")
    return "\n".join(lines)


def _use(verb: str) -> Message:
    return Message("Use `%(usage)s`.", usage=Message(USAGE[verb]))


def parse(text: str) -> TicketCommand:
    """Parse the text after `/ticket`, as Slack delivers it (a step's text is kept as typed:
    :func:`bot.slack.delivered.typed`). Raises UserError saying what is wrong and the form."""
    word, after = first_word(text)
    if not word:
        return TicketCommand("help")
    verb = verb_of(word)
    if verb is None:
        raise UserError(
            "I don't know `%(word)s`. Write `/ticket help` for the list.", word=quoted(word)
        )
    if verb == "help":
        return TicketCommand("help")
    second, rest = first_word(after)
    second, rest = unicodedata.normalize("NFKC", second), rest.strip()  # "Ａ", "２０２６－１１"
    if verb == "list":
        choice = CHINESE_FILTERS.get(second, second or "open")
        choice = choice.upper() if choice.upper() in ("A", "B", "C", "D") else choice.lower()
        if choice not in LIST_FILTERS or rest:
            raise UserError(_use("list"))
        return TicketCommand("list", argument=choice)
    if verb == "report":
        if (second and not _valid_month(second)) or rest:
            raise UserError("The month is written YYYY-MM. %(use)s", use=_use("report"))
        return TicketCommand("report", argument=second)
    if not second:
        raise UserError("Which ticket? %(use)s", use=_use(verb))
    number = _number(second, verb)
    if verb == "show":
        return TicketCommand("show", number=number)
    return TicketCommand(verb, number=number, step=_step(verb, rest))


def _step(verb: str, rest: str) -> Step:
    use = _use(verb)
    if verb in NEEDS_TEXT and not rest:
        raise UserError("Say %(what)s. %(use)s", what=_WHAT[verb], use=use)
    if verb == "assign":
        match = _USER.match(rest)
        if not match:
            raise UserError("Name the person with an @mention. %(use)s", use=use)
        return Step("assign", user=match.group(1))
    if verb == "severity":
        letter, reason = first_word(rest)
        letter = unicodedata.normalize("NFKC", letter)  # a full-width "Ｂ" is B
        if letter.upper() not in ("A", "B", "C", "D"):
            raise UserError(
                "The class is A, B, C or D, not `%(word)s`. %(use)s", word=quoted(letter), use=use
            )
        if not reason.strip():
            raise UserError("Say why the class changes. %(use)s", use=use)
        return Step("severity", severity=Severity(letter.upper()), text=typed(reason.strip()))
    if verb == "plan":
        fix: date | None = None
        found = _BY_DATE.search(rest)
        if found:
            try:
                fix = date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                raise UserError(
                    "`%(word)s` is not a date. %(use)s", word=quoted(found["date"]), use=use
                ) from None
            rest = rest[: found.start()].strip()
            if not rest:
                raise UserError("Say the solution. %(use)s", use=use)
        return Step("plan", text=typed(rest), fix_date=fix)
    if verb not in NEEDS_TEXT and verb != "resolve" and rest:
        raise UserError("This command takes only the ticket number. %(use)s", use=use)
    return Step(verb, text=typed(rest))


def _number(word: str, verb: str) -> int:
    match = _NUMBER.match(unicodedata.normalize("NFKC", word))  # "＃１２" is #12
    if not match:
        raise UserError(
            "`%(word)s` is not a ticket number. %(use)s", word=quoted(word), use=_use(verb)
        )
    return int(match.group(1))


def _valid_month(text: str) -> bool:
    match = _MONTH.match(text)
    return bool(match) and 1 <= int(match.group(2)) <= 12 if match else False


_WHAT = {
    "cause": Message("what caused it"),
    "plan": Message("the solution"),
    "severity": Message("the class and why"),
    "decline": Message("why it is declined"),
    "note": Message("the note"),
}
