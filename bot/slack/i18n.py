"""The bot's two languages (SPEC §9): gettext catalogs kept as ``.po`` files beside this
module (``locale/<lang>/LC_MESSAGES/messages.po``), read with Babel.

A :class:`Translator` is one reader's language (and the workspace's timezone for the text
fallback of dates). Builders take it as an argument, ``tr``; nothing here is global state
beyond the catalogs read once per language. ``tr("%(ref)s is yours.", ref="#3")``
translates and fills in; ``tr.plural(...)`` picks the plural form; ``tr.say(message)``
says a :class:`~bot.errors.Message` (a domain's or a service's text, not yet in a
language). Messages are marked for extraction by those names (see ``babel.cfg``).

A compiled ``.mo`` beside a ``.po`` is used when it is at least as new (``make catalogs``
and the Docker image build them); otherwise the ``.po`` is compiled in memory at first
use, so a fresh clone, ``pip install -e .`` and the tests need no build step.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum, StrEnum
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.domain.roles import Duty
from bot.domain.service_plan import TaskState
from bot.domain.tickets import TicketState
from bot.errors import Message

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


class Language(StrEnum):
    """The languages the bot speaks, as written in the config (``language``)."""

    ZH_CN = "zh-CN"
    EN = "en"

    @property
    def catalog(self) -> str:
        """The catalog's folder name (a POSIX locale name)."""
        return self.value.replace("-", "_")


DEFAULT_LANGUAGE = Language.ZH_CN


def language_of_slack_locale(locale: str | None) -> Language | None:
    """The language for a Slack locale (``en-US``, ``zh-CN``, ``zh-TW``); None when the bot
    does not speak it (the workspace's language is used then)."""
    tag = (locale or "").strip().lower().replace("_", "-")
    if tag.startswith("zh"):
        return Language.ZH_CN
    if tag == "en" or tag.startswith("en-"):
        return Language.EN
    return None


def mention(user: str | None) -> str:
    """A live mention of a person, as the bot writes it."""
    return f"<@{user}>"


def channel_link(channel: str) -> str:
    """A link to a channel, as the bot writes it."""
    return f"<#{channel}>"


def catalog_path(language: Language, suffix: str = ".po") -> Path:
    return LOCALE_DIR / language.catalog / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def _translations(language: Language) -> gettext.GNUTranslations:
    po, mo = catalog_path(language), catalog_path(language, ".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language.catalog, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as gettext would
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def N_(msgid: str) -> str:
    """Marks a text for the catalogs where it is written; it is translated where shown."""
    return msgid


def C_(context: str, msgid: str) -> tuple[str, str]:
    """Marks a text with its context (a word that reads differently elsewhere)."""
    return context, msgid


@cache
def all_texts(language: Language) -> dict[str, str | list[str]]:
    """Every message of the catalog (without a context) in ``language``: a plural message
    by its singular, with its forms. For a page that translates its own words."""
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language.catalog, domain=DOMAIN)
    texts: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or message.fuzzy or message.context:
            continue
        msgid, string = message.id, message.string
        if isinstance(msgid, tuple) and isinstance(string, tuple):
            texts[msgid[0]] = list(string)
        elif isinstance(msgid, str) and isinstance(string, str):
            texts[msgid] = string
    return texts


# How the words of the domain's vocabularies read (a value given as a message parameter).
WORDS: Mapping[Enum, tuple[str, str]] = {
    TicketState.OPEN: C_("ticket state", "open"),
    TicketState.AWAITING_APPROVAL: C_("ticket state", "awaiting approval"),
    TicketState.ACKNOWLEDGED: C_("ticket state", "acknowledged"),
    TicketState.DIAGNOSED: C_("ticket state", "diagnosed"),
    TicketState.PLANNED: C_("ticket state", "planned"),
    TicketState.WAITING: C_("ticket state", "waiting"),
    TicketState.RESOLVED: C_("ticket state", "resolved"),
    TicketState.CLOSED: C_("ticket state", "closed"),
    TaskState.PENDING: C_("plan task state", "pending"),
    TaskState.OPEN: C_("plan task state", "open"),
    TaskState.DONE: C_("plan task state", "done"),
    TaskState.SKIPPED: C_("plan task state", "skipped"),
    TaskState.SUPERSEDED: C_("plan task state", "superseded"),
    Duty.READ_REPORT: C_("duty", "read the monthly report"),
    Duty.OVERRIDE_ONCALL: C_("duty", "override the on-call rotation"),
    Duty.SEE_TEAM: C_("duty", "see the team's open tickets"),
}

MILESTONES: Mapping[str, str] = {
    "respond": N_("Respond"),
    "diagnose": N_("Diagnose"),
    "plan": N_("Plan"),
    "resolve": N_("Resolve"),
}
# A milestone as a verb in a sentence ("#3 diagnose is not met yet", "#3 尚未确定原因").
MILESTONE_VERBS: Mapping[str, tuple[str, str]] = {
    "respond": C_("milestone in a sentence", "respond"),
    "diagnose": C_("milestone in a sentence", "diagnose"),
    "plan": C_("milestone in a sentence", "plan"),
    "resolve": C_("milestone in a sentence", "resolve"),
}


class Translator:
    """One language's texts, dates and durations."""

    def __init__(self, language: Language, tz: tzinfo = UTC) -> None:
        self.language = language
        self.tz = tz
        self._catalog = _translations(language)

    def __repr__(self) -> str:
        return f"Translator({self.language.value!r})"

    def __call__(self, msgid: str, /, **params: object) -> str:
        return self._fill(self._catalog.gettext(msgid), params)

    def plural(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """The form for ``n`` (``%(n)d`` in the text is ``n``)."""
        return self._fill(self._catalog.ngettext(singular, plural, n), {"n": n, **params})

    def say(self, message: Message) -> str:
        return self(message.msgid, **message.params)

    def word(self, value: Enum) -> str:
        """A vocabulary's value in words (a ticket's state, a duty)."""
        found = WORDS.get(value)
        if found is None:
            return str(value.value)
        return self._catalog.pgettext(*found)

    def marked(self, marked: tuple[str, str]) -> str:
        """A text marked with its context (:func:`C_`): the same English words that read
        otherwise elsewhere (the ticket's Open ticket button, the form's Open ticket)."""
        return self._catalog.pgettext(*marked)

    def milestone(self, name: str) -> str:
        """A milestone's name (``respond`` → Respond / 响应)."""
        msgid = MILESTONES.get(name)
        return self(msgid) if msgid is not None else name

    def milestone_verb(self, name: str) -> str:
        """A milestone said in a sentence (``diagnose`` → diagnose / 确定原因)."""
        found = MILESTONE_VERBS.get(name)
        return self._catalog.pgettext(*found) if found is not None else name

    def _fill(self, text: str, params: Mapping[str, object]) -> str:
        if not params:
            return text
        return text % {name: self._value(value) for name, value in params.items()}

    def _value(self, value: object) -> object:
        if isinstance(value, Message):
            return self.say(value)
        if isinstance(value, Enum) and value in WORDS:
            return self.word(value)
        return value

    # ----- times -------------------------------------------------------------------------

    def local_time(self, when: datetime) -> str:
        """``YYYY-MM-DD HH:MM`` in the workspace's timezone (24-hour, SPEC §9). Formatted by
        hand: ``strftime`` was most of the work of a ticket's card, which shows a dozen times."""
        t = when.astimezone(self.tz)
        return f"{t.year}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"

    def date_token(self, when: datetime) -> str:
        """A Slack date token: each reader sees ``YYYY-MM-DD HH:MM`` in their own timezone;
        clients that cannot show it read the workspace's local time."""
        return f"<!date^{int(when.timestamp())}^{{date_num}} {{time}}|{self.local_time(when)}>"

    def duration(self, delta: timedelta) -> str:
        """``1 h 40 min`` / ``1 小时 40 分钟``: the two largest units, whole minutes."""
        minutes = int(abs(delta).total_seconds() // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        parts = []
        if days:
            parts.append(self.plural("%(n)d day", "%(n)d days", days))
        if hours:
            parts.append(self.plural("%(n)d hour", "%(n)d hours", hours))
        if mins and not days:
            parts.append(self.plural("%(n)d minute", "%(n)d minutes", mins))
        return " ".join(parts[:2])

    def aside(self, text: str, note: str) -> str:
        """``text (note)``, with the reader's brackets: ``text（note）`` in Chinese."""
        return self(N_("%(text)s (%(note)s)"), text=text, note=note)

    def labelled(self, label: str, text: str) -> str:
        """``label: text``, with the reader's colon: ``label：text`` in Chinese."""
        return self(N_("%(label)s: %(text)s"), label=label, text=text)

    def time_left(self, due: datetime, now: datetime) -> str:
        """``14 minutes left`` / ``还剩 14 分钟``; ``overdue by 3 minutes`` / ``已逾期 3 分钟``."""
        delta = due - now
        span = self.duration(delta)
        if delta <= timedelta(0):  # at the deadline it is passed: a breach is sent then
            return self(N_("overdue by %(span)s"), span=span) if span else self(N_("overdue"))
        return self(N_("%(span)s left"), span=span) if span else self(N_("under a minute left"))


@cache
def translator(language: Language, tz: tzinfo = UTC) -> Translator:
    """The translator for ``language`` (one per language and timezone)."""
    return Translator(language, tz)
