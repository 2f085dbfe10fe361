from datetime import date

import pytest

from bot.errors import UserError
from bot.sla.policy import Severity
from bot.slack.ticket_parser import USAGE, parse


@pytest.mark.parametrize(
    ("text", "verb", "number"),
    [
        ("ack 42", "ack", 42),
        ("ACK #42", "ack", 42),
        ("take 7", "take", 7),
        ("wait 3", "wait", 3),
        ("resume #3", "resume", 3),
        ("accept 9", "accept", 9),
        ("close 9", "close", 9),
        ("reopen 9", "reopen", 9),
        ("show #12", "show", 12),
        ("resolve 5 replaced the disk", "resolve", 5),
    ],
)
def test_ticket_numbers_as_42_or_hash_42(text: str, verb: str, number: int) -> None:
    command = parse(text)
    assert (command.verb, command.number) == (verb, number)


def test_texts_users_and_dates_are_read() -> None:
    assert parse("cause 4 the disk is full").step.text == "the disk is full"  # type: ignore[union-attr]
    plan = parse("plan #4 swap the disk by 2026-12-01").step
    assert plan is not None and plan.text == "swap the disk" and plan.fix_date == date(2026, 12, 1)
    assign = parse("assign 4 <@U0ENG2|eli>").step
    assert assign is not None and assign.user == "U0ENG2"
    severity = parse("severity 4 b wider impact than thought").step
    assert severity is not None and severity.severity is Severity.B
    assert severity.text == "wider impact than thought"
    assert parse("note 4 called the customer").step.text == "called the customer"  # type: ignore[union-attr]
    assert parse("list").argument == "open"
    assert parse("list breaching").argument == "breaching"
    assert parse("list a").argument == "A"
    assert parse("report 2026-11").argument == "2026-11"
    assert parse("").verb == "help" and parse("help").verb == "help"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("frobnicate 4", "I don't know"),
        ("ack", "Which ticket?"),
        ("ack four", "is not a ticket number"),
        ("ack 4 now please", "takes only the ticket number"),
        ("cause 4", "Say what caused it"),
        ("plan 4", "Say the solution"),
        ("plan 4 by 2026-02-30", "is not a date"),
        ("plan 4 by 2026-12-01", "Say the solution"),
        ("assign 4 bob", "@mention"),
        ("severity 4 E because", "A, B, C or D"),
        ("severity 4 B", "Say why"),
        ("decline 4", "Say why it is declined"),
        ("note 4", "Say the note"),
        ("list everything", "/ticket list"),
        ("report november", "YYYY-MM"),
        ("report 2026-13", "YYYY-MM"),
    ],
)
def test_every_mistake_says_what_is_wrong_and_the_right_form(text: str, says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse(text)
    assert says in str(caught.value)
    verb = text.split()[0]
    if verb in USAGE and verb != "frobnicate":
        assert USAGE[verb] in str(caught.value)


def test_echoed_words_cannot_mention_or_link() -> None:
    # what Slack delivers of a typed "@channel", of a typed "<!channel>", of "R&D"
    for sent, shown in (
        ("<!channel>", "@channel"),
        ("&lt;!channel&gt;", "&lt;!channel&gt;"),
        ("R&amp;D", "R&amp;D"),
    ):
        with pytest.raises(UserError) as caught:
            parse(f"{sent} 4")
        assert "<!channel>" not in str(caught.value)
        assert f"`{shown}`" in str(caught.value)


def test_a_long_echoed_word_is_cut_before_it_is_escaped() -> None:
    with pytest.raises(UserError) as caught:
        parse("ack " + "a" * 24 + "&amp;bc")  # typed: 24 a's, then "&bc"
    assert "`" + "a" * 24 + "&amp;…`" in str(caught.value)  # 24 + 5 + "…": 30, the limit
    with pytest.raises(UserError) as caught:
        parse("ack " + "a" * 27 + "&amp;b")
    assert "`" + "a" * 27 + "…`" in str(caught.value)  # "&amp;" would not fit: not half of it


def test_step_text_is_kept_as_typed() -> None:
    command = parse("note 4 R&amp;D &lt;team&gt; ask <@U0ENG2|eli> in <#C0SUPPORT|support>")
    assert command.step is not None
    assert command.step.text == "R&D <team> ask @eli in #support"
    assign = parse("assign 4 <@U0ENG2|eli>")
    assert assign.step is not None and assign.step.user == "U0ENG2"


def test_full_width_forms_are_read_as_chinese_keyboards_type_them() -> None:
    severity = parse("定级　１　Ｂ　因为影响生产")  # full-width spaces, digit and letter
    assert severity.number == 1 and severity.step is not None
    assert severity.step.severity is Severity.B and severity.step.text == "因为影响生产"
    assert parse("ack ＃12").number == 12
    assert parse("severity 3 b\tonly one site").step.severity is Severity.B  # type: ignore[union-attr]


def test_a_fix_date_is_read_as_people_write_it() -> None:
    for written in (
        "2026-12-01",
        "2026/12/1",
        "2026.12.01",
        "2026年12月1日",
        "２０２６－１２－０１",
    ):
        plan = parse(f"方案 4 更换硬盘 by {written}").step
        assert plan is not None and plan.fix_date == date(2026, 12, 1), written
        assert plan.text == "更换硬盘"
    with pytest.raises(UserError, match="is not a date"):
        parse("plan 4 new disk by 2026/02/30")
    plan = parse("plan 4 new disk by next week").step  # no date: the words are the plan's
    assert plan is not None and plan.fix_date is None and plan.text == "new disk by next week"
