"""Reading `/ticket …` text into a step on a ticket, with the right form for every mistake."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.domain.workflow import Step
from bot.errors import UserError
from bot.sla.policy import Severity

USAGE: dict[str, str] = {
    "ack": "/ticket ack N",
    "take": "/ticket take N",
    "assign": "/ticket assign N @user",
    "cause": "/ticket cause N what caused it",
    "plan": "/ticket plan N the solution [by YYYY-MM-DD]",
    "resolve": "/ticket resolve N what was done",
    "wait": "/ticket wait N",
    "resume": "/ticket resume N",
    "severity": "/ticket severity N A|B|C|D why",
    "accept": "/ticket accept N",
    "decline": "/ticket decline N why",
    "note": "/ticket note N text",
    "close": "/ticket close N",
    "reopen": "/ticket reopen N",
    "show": "/ticket show N",
    "list": "/ticket list [open|mine|breaching|A|B|C|D]",
    "report": "/ticket report [YYYY-MM]",
    "help": "/ticket help",
}
NEEDS_TEXT = frozenset({"cause", "plan", "severity", "decline", "note"})
LIST_FILTERS = ("open", "mine", "breaching", "A", "B", "C", "D")
_NUMBER = re.compile(r"^#?(\d{1,9})$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_BY_DATE = re.compile(r"(?:^|\s+)by\s+(\d{4}-\d{2}-\d{2})\s*$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class TicketCommand:
    """A parsed `/ticket` line: a step on ticket ``number``, or a query (show/list/report/help)."""

    verb: str
    number: int | None = None
    step: Step | None = None
    argument: str = ""


def help_text() -> str:
    return "Ticket commands (N is a ticket number, `42` or `#42`):\n" + "\n".join(
        f"• `{usage}`" for usage in USAGE.values()
    )


def parse(text: str) -> TicketCommand:
    """Parse the text after `/ticket`. Raises UserError saying what is wrong and the form."""
    words = text.strip().split(maxsplit=2)
    if not words or words[0].lower() == "help":
        return TicketCommand("help")
    verb = words[0].lower()
    if verb not in USAGE:
        raise UserError(f"I don't know `{_short(words[0])}`. {help_text()}")
    if verb == "list":
        choice = words[1] if len(words) > 1 else "open"
        choice = choice.upper() if choice.upper() in ("A", "B", "C", "D") else choice.lower()
        if choice not in LIST_FILTERS or len(words) > 2:
            raise UserError(f"Use `{USAGE['list']}`.")
        return TicketCommand("list", argument=choice)
    if verb == "report":
        month = words[1] if len(words) > 1 else ""
        if month and not _valid_month(month):
            raise UserError(f"The month is written YYYY-MM. Use `{USAGE['report']}`.")
        return TicketCommand("report", argument=month)
    if len(words) < 2:
        raise UserError(f"Which ticket? Use `{USAGE[verb]}`.")
    number = _number(words[1], verb)
    rest = words[2].strip() if len(words) > 2 else ""
    if verb == "show":
        return TicketCommand("show", number=number)
    return TicketCommand(verb, number=number, step=_step(verb, rest))


def _step(verb: str, rest: str) -> Step:
    usage = f"Use `{USAGE[verb]}`."
    if verb in NEEDS_TEXT and not rest:
        raise UserError(f"Say {_what(verb)}. {usage}")
    if verb == "assign":
        match = _USER.match(rest)
        if not match:
            raise UserError(f"Name the person with an @mention. {usage}")
        return Step("assign", user=match.group(1))
    if verb == "severity":
        letter, _, reason = rest.partition(" ")
        if letter.upper() not in ("A", "B", "C", "D"):
            raise UserError(f"The class is A, B, C or D, not `{_short(letter)}`. {usage}")
        if not reason.strip():
            raise UserError(f"Say why the class changes. {usage}")
        return Step("severity", severity=Severity(letter.upper()), text=reason.strip())
    if verb == "plan":
        fix: date | None = None
        found = _BY_DATE.search(rest)
        if found:
            try:
                fix = date.fromisoformat(found.group(1))
            except ValueError:
                raise UserError(f"`{found.group(1)}` is not a date. {usage}") from None
            rest = rest[: found.start()].strip()
            if not rest:
                raise UserError(f"Say the solution. {usage}")
        return Step("plan", text=rest, fix_date=fix)
    if verb not in NEEDS_TEXT and verb != "resolve" and rest:
        raise UserError(f"`{verb}` takes only the ticket number. {usage}")
    return Step(verb, text=rest)


def _number(word: str, verb: str) -> int:
    match = _NUMBER.match(word)
    if not match:
        raise UserError(f"`{_short(word)}` is not a ticket number. Use `{USAGE[verb]}`.")
    return int(match.group(1))


def _valid_month(text: str) -> bool:
    match = _MONTH.match(text)
    return bool(match) and 1 <= int(match.group(2)) <= 12 if match else False


def _what(verb: str) -> str:
    return {
        "cause": "what caused it",
        "plan": "the solution",
        "severity": "the class and why",
        "decline": "why it is declined",
        "note": "the note",
    }[verb]


def _short(word: str) -> str:
    """A word the user typed, safe to quote back in a message (no mentions, no links)."""
    cleaned = word.replace("`", "'").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return cleaned if len(cleaned) <= 30 else cleaned[:29] + "…"
