"""The parts of speaking two languages: cutting user text, messages kept for a retry, which
language a Slack locale is, and a person's language when Slack does not answer."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import Message, UserError
from bot.slack.i18n import Language, Translator, language_of_slack_locale, translator
from bot.slack.text_limits import ELLIPSIS, cut

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_chinese_text_is_cut_by_characters_never_inside_one() -> None:
    assert cut("磁盘满了", 4) == "磁盘满了"
    assert cut("磁盘满了导致服务停止", 5) == "磁盘满了" + ELLIPSIS
    assert cut("ab👍🏽cd", 4) == "ab" + ELLIPSIS  # the skin tone stays with its hand
    assert cut("e\u0301e\u0301e\u0301", 4) == "e\u0301" + ELLIPSIS  # é is one character
    assert cut("x🇨🇳🇨🇳", 4) == "x🇨🇳" + ELLIPSIS  # a flag is two code points
    assert cut("a\u200d👩", 3) == "a\u200d👩"


@given(st.text(max_size=60), st.integers(min_value=1, max_value=40))
def test_a_cut_fits_and_keeps_the_start(text: str, limit: int) -> None:
    found = cut(text, limit)
    assert len(found) <= max(limit, len(ELLIPSIS))
    assert text.startswith(found.removesuffix(ELLIPSIS))


def test_a_message_kept_for_a_retry_is_said_again_in_any_language() -> None:
    message = Message(
        "Only %(who)s can %(duty)s.", who=Message("a manager"), duty="read the monthly report"
    )
    again = Message.from_json(message.to_json())
    assert again == message
    assert translator(Language.ZH_CN).say(again).startswith("只有经理可以")
    assert str(again) == "Only a manager can read the monthly report."
    # a reply stored before messages were: said as it was, even with a % in it
    old = Message.from_json("100% done: #3 is yours.")
    assert translator(Language.ZH_CN).say(old) == "100% done: #3 is yours."


def test_a_user_error_keeps_its_message_and_reads_in_english() -> None:
    error = UserError("There is no ticket %(ref)s.", ref="#9")
    assert str(error) == "There is no ticket #9."
    assert translator(Language.ZH_CN).say(error.message) == "没有工单 #9。"


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("en-US", Language.EN),
        ("en-GB", Language.EN),
        ("zh-CN", Language.ZH_CN),
        ("zh-TW", Language.ZH_CN),
        ("ja-JP", None),
        ("", None),
        (None, None),
    ],
)
def test_which_language_a_slack_locale_reads(locale: str | None, language: Language | None) -> None:
    assert language_of_slack_locale(locale) is language


def test_the_manifest_describes_the_app_in_both_languages_within_slacks_lengths() -> None:
    import yaml

    from bot.slack.manifest import manifest

    data = yaml.safe_load(manifest())
    about = data["display_information"]
    shortcut = data["features"]["shortcuts"][0]
    texts = [about["description"], about["long_description"], shortcut["name"]]
    texts += [shortcut["description"]]
    texts += [c["description"] for c in data["features"]["slash_commands"]]
    for text in texts:
        assert HAN.search(text) and re.search(r"[A-Za-z]{4,}", text), text
    assert len(about["description"]) <= 140 and 174 <= len(about["long_description"]) <= 4000
    assert len(shortcut["name"]) <= 24
    assert "users:read" in data["oauth_config"]["scopes"]["bot"]


def test_a_notice_to_one_person_carries_its_words_in_each_language() -> None:
    from bot.config import parse_config
    from bot.services.readers import to_one, words_for
    from tests.conftest import CONFIG_DATA

    def say(tr: Translator) -> tuple[str, list[dict[str, object]]]:
        text = tr("There is no ticket %(ref)s.", ref="#9")
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]

    payload = to_one(parse_config({**CONFIG_DATA, "language": "zh-CN"}), say)
    assert payload["text"] == "没有工单 #9。" and set(payload["words"]) == {"en"}
    assert words_for(payload, Language.EN)["text"] == "There is no ticket #9."
    assert words_for(payload, Language.EN)["blocks"][0]["text"]["text"] == "There is no ticket #9."
    # the reader's language not known: the workspace's
    assert words_for(payload, None) == {"text": "没有工单 #9。", "blocks": payload["blocks"]}
    # a notice owed before notices carried their words: as it was stored
    assert words_for({"text": "old"}, Language.EN) == {"text": "old"}
    english = to_one(parse_config({**CONFIG_DATA, "language": "en"}), lambda tr: tr("Respond"))
    assert english == {"text": "Respond", "words": {"zh-CN": {"text": "响应"}}}
