"""The catalogs against the code: every text the code marks is in both languages, translated,
with the same placeholders; every message renders in both; the Chinese has no English."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.catalog import Catalog, Message

from bot.slack import catalogs
from bot.slack.i18n import Language, Translator, translator
from tests.i18n.english import english_words

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def template() -> Catalog:
    return catalogs.extract()


def keys(catalog: Catalog) -> set[tuple[object, str | None]]:
    return {(m.id, m.context) for m in catalog if m.id}


@pytest.mark.parametrize("language", list(Language))
def test_the_catalog_holds_exactly_what_the_code_marks(
    template: Catalog, language: Language
) -> None:
    catalog = catalogs.read(language)
    assert keys(template) - keys(catalog) == set(), (
        "new texts: run python -m bot.slack.catalogs update"
    )
    assert keys(catalog) - keys(template) == set(), "texts no longer in the code"
    assert len(keys(template)) > 150


@pytest.mark.parametrize("language", list(Language))
def test_every_message_is_translated_with_its_placeholders(language: Language) -> None:
    catalog = catalogs.read(language)
    assert catalog.num_plurals == (1 if language is Language.ZH_CN else 2)
    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1), message.id
        assert all(strings), f"no {language} translation of {message.id!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(_PLACEHOLDER.findall(ids[-1])) | ({"n"} if message.pluralizable else set())
        for string in strings:
            got = set(_PLACEHOLDER.findall(string))
            assert got <= wanted and set(_PLACEHOLDER.findall(ids[0])) - {"n"} <= got, (
                message.id,
                string,
            )
    assert list(catalog.check()) == []  # Babel's own checks (python-format, plurals)


def _params(message: Message) -> dict[str, object]:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    names = {name for text in ids for name in _PLACEHOLDER.findall(text)}
    return {name: 3 if name == "n" else f"«{name}»" for name in names}


@pytest.mark.parametrize("language", list(Language))
def test_every_message_renders(language: Language) -> None:
    tr = translator(language)
    rendered = 0
    for message in catalogs.read(language):
        if not message.id:
            continue
        params = _params(message)
        if message.context:
            assert tr._catalog.pgettext(message.context, message.id)
        elif isinstance(message.id, tuple):
            assert tr.plural(message.id[0], message.id[1], 3, **params)
        else:
            text = tr(message.id, **params)
            assert text and "%(" not in text
        rendered += 1
    assert rendered > 150


def test_the_chinese_catalog_has_no_english() -> None:
    """Commands, placeholders, code and the standard's number may stay as they are."""
    allowed = {"ack", "take", "assign", "cause", "plan", "resolve", "wait", "resume", "severity"}
    allowed |= {"accept", "decline", "note", "close", "reopen", "show", "list", "report", "help"}
    allowed |= {"ticket", "oncall", "override", "by", "open", "mine", "breaching", "backup"}
    for message in catalogs.read(Language.ZH_CN):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            left = [w for w in english_words(_PLACEHOLDER.sub("", string)) if w not in allowed]
            assert left == [], (message.id, string)


_CJK = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef"
# An ASCII mark next to Chinese (around placeholders, code and Slack's tokens, which stay)
_HALF_WIDTH = re.compile(rf"[{_CJK}][,:;?!()]|[,;?!(][{_CJK}]")


def test_chinese_is_punctuated_in_full_width() -> None:
    """，：；？！（） in Chinese text, as Chinese readers expect (GB/T 15834)."""
    for message in catalogs.read(Language.ZH_CN):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            bare = re.sub(r"`[^`]*`|<[^>]*>|:[a-z_0-9+-]+:", "", _PLACEHOLDER.sub("x", string))
            assert not _HALF_WIDTH.search(bare), (message.id, string)


def test_plural_forms_follow_each_language() -> None:
    en, zh = translator(Language.EN), translator(Language.ZH_CN)
    assert en.duration(timedelta(minutes=1)) == "1 minute"
    assert en.duration(timedelta(hours=2, minutes=5)) == "2 hours 5 minutes"
    assert en.duration(timedelta(days=1, hours=1, minutes=5)) == "1 day 1 hour"
    assert zh.duration(timedelta(hours=2, minutes=5)) == "2 小时 5 分钟"
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert zh.time_left(now + timedelta(minutes=14, seconds=30), now) == "还剩 14 分钟"
    assert zh.time_left(now - timedelta(minutes=3), now) == "已逾期 3 分钟"
    assert en.time_left(now - timedelta(minutes=3), now) == "overdue by 3 minutes"
    assert en.time_left(now + timedelta(seconds=20), now) == "under a minute left"
    # at the deadline itself (when a breach is sent) it has passed, not "under a minute left"
    assert (zh.time_left(now, now), en.time_left(now, now)) == ("已逾期", "overdue")
    assert zh.time_left(now - timedelta(seconds=20), now) == "已逾期"


def test_dates_read_24_hour_in_the_workspace_timezone_and_the_readers_own() -> None:
    from zoneinfo import ZoneInfo

    tr = Translator(Language.ZH_CN, ZoneInfo("Asia/Shanghai"))
    at = datetime(2026, 11, 23, 15, 5, tzinfo=UTC)  # 23:05 in Shanghai
    assert tr.local_time(at) == "2026-11-23 23:05"
    assert (
        tr.date_token(at) == f"<!date^{int(at.timestamp())}^{{date_num}} {{time}}|2026-11-23 23:05>"
    )


def test_a_compiled_catalog_says_the_same_as_the_po(tmp_path: object) -> None:
    import gettext
    import io

    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalogs.read(Language.ZH_CN))
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    tr = translator(Language.ZH_CN)
    for msgid in ("There is no ticket %(ref)s.", "Respond", "%(ref)s is yours."):
        assert compiled.gettext(msgid) == tr(msgid) != msgid
