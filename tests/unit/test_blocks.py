import json
from datetime import UTC, datetime, timedelta

from bot.domain.read_models import TicketView
from bot.domain.tickets import Ticket
from bot.slack import blocks, report_form
from bot.slack.delivered import typed
from bot.slack.i18n import Language, translator
from bot.slack.views import show_blocks
from tests.factories import make_ticket

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
EN = translator(Language.EN)


def ticket(**changes: object) -> Ticket:
    hostile = {"summary": "<!channel> down", "details": "see <http://evil.example|bank> & <@U123>"}
    return make_ticket(**{"number": 7, "reported_at": NOW, **hostile, **changes})


def test_escape_defuses_mentions_and_links() -> None:
    assert blocks.escape("<!here> <@U1> <http://x|y> a&b") == (
        "&lt;!here&gt; &lt;@U1&gt; &lt;http://x|y&gt; a&amp;b"
    )


def test_typed_gives_back_what_was_typed_from_what_slack_delivers() -> None:
    # Slack sends "&", "<", ">" as entities and mentions, channels, links as tokens
    cases = {
        "R&amp;D &lt;team&gt; &amp;lt;": "R&D <team> &lt;",
        "ask <@U0ENG2|eli> and <@W0X> in <#C0SUP|support> or <#C0OPS>": (
            "ask @eli and @W0X in #support or #C0OPS"
        ),
        "<!here> <!channel|channel> <!everyone> <!subteam^S1|@ops>": (
            "@here @channel @everyone @ops"
        ),
        "<!date^1700000000^{date}|Nov 14> see <https://x.example/a?b=1&amp;c=2|x.example>": (
            "Nov 14 see x.example"
        ),
        "<https://x.example/p> <mailto:a@b.example|a@b.example>": "https://x.example/p a@b.example",
        "打印机坏了 &lt;急&gt;": "打印机坏了 <急>",
    }
    for sent, as_typed in cases.items():
        assert typed(sent) == as_typed
        assert "<" not in blocks.escape(typed(sent))


def test_ticket_message_carries_no_live_mention_or_link_from_user_text() -> None:
    header, *rest = blocks.ticket_message(ticket(), {"respond": NOW}, NOW)
    # The header is plain text: Slack shows it as typed and reads no mention or link in it.
    assert header["text"] == {"type": "plain_text", "text": "#7 <!channel> down", "emoji": True}
    body = json.dumps(rest)
    assert "<!channel>" not in body
    assert "<http://evil" not in body
    assert "<@U123>" not in body
    assert "<@U0REP>" in body  # the bot's own mention of the reporter stays live


def test_deadlines_use_slack_date_tokens_and_time_left() -> None:
    body = json.dumps(
        blocks.ticket_message(ticket(), {"respond": NOW + timedelta(minutes=15)}, NOW)
    )
    assert f"<!date^{int((NOW + timedelta(minutes=15)).timestamp())}^" in body
    assert "15 minutes left" in body


def test_time_left_reads_naturally() -> None:
    assert EN.time_left(NOW + timedelta(hours=2, minutes=5), NOW) == "2 hours 5 minutes left"
    assert EN.time_left(NOW - timedelta(minutes=3), NOW) == "overdue by 3 minutes"
    assert EN.time_left(NOW + timedelta(days=1, hours=1), NOW) == "1 day 1 hour left"


def test_modal_shows_one_open_question_then_the_class() -> None:
    first = report_form.report_modal(EN)
    questions = [b for b in first["blocks"] if b.get("block_id", "").startswith("triage_")]
    assert len(questions) == 1
    second = report_form.report_modal(EN, answers=(False,))
    questions = [b for b in second["blocks"] if b.get("block_id", "").startswith("triage_")]
    assert len(questions) == 2
    done = report_form.report_modal(EN, answers=(False, True))
    result = [b for b in done["blocks"] if b.get("block_id") == "triage_result"]
    assert result and "Class B" in result[0]["text"]["text"]


def test_header_is_cut_to_slacks_limit() -> None:
    header = blocks.ticket_message(ticket(summary="x" * 400), {}, NOW)[0]
    assert len(header["text"]["text"]) <= 150


def test_met_milestones_show_when_and_whether_in_time() -> None:
    acked = ticket(acknowledged_at=NOW + timedelta(minutes=20))
    body = json.dumps(
        blocks.ticket_message(
            acked,
            {"respond": NOW + timedelta(minutes=15), "diagnose": NOW + timedelta(hours=1)},
            NOW + timedelta(minutes=20),
        )
    )
    assert "Respond* :white_check_mark:" in body and "(late)" in body
    assert "Diagnose by" in body and "40 minutes left" in body
    assert EN.time_left(NOW + timedelta(seconds=30), NOW) == "under a minute left"


def test_show_has_the_cards_body_without_its_buttons() -> None:
    card = blocks.ticket_message(ticket(), {"respond": NOW}, NOW)
    assert card[-1]["type"] == "actions"  # a new ticket's card offers Acknowledge and Take
    shown = show_blocks(TicketView(ticket(), {"respond": NOW}, []), NOW, EN)
    assert "actions" not in [b["type"] for b in shown]
    assert shown[: len(card) - 1] == card[:-1]
    assert blocks.ticket_message(ticket(), {"respond": NOW}, NOW, buttons=False) == card[:-1]
