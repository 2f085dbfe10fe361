"""Text users type is shown as text (SPEC §8): no live @channel, @here, mention or link made of
it, and every message and view within Slack's limits, whatever they type."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.read_models import EventView, HomeData, Listed, TicketView
from bot.domain.roles import Actor
from bot.domain.rotation import OnCall
from bot.domain.tickets import DETAILS_MAX, SUMMARY_MAX, SYSTEM_MAX, Ticket, TicketState
from bot.domain.workflow import Change, Prompt
from bot.errors import UserError
from bot.sla.policy import Milestone, Severity
from bot.sla.stages import Stage, StageKind
from bot.slack import blocks, report_form
from bot.slack import paging as blocks_pages
from bot.slack import ticket_card as blocks_ticket
from bot.slack.i18n import Language, Translator, translator
from bot.slack.thread_text import story_line
from bot.slack.ticket_parser import parse
from bot.slack.views import home_view, list_blocks, show_blocks
from tests.e2e.test_intake import answer, open_report
from tests.factories import make_ticket
from tests.fakes import FakeClock
from tests.harness import CHANNELS, USERS, Running
from tests.reliability.blockkit import MESSAGE_TEXT, Checker, live_sequences
from tests.reliability.support import LONG, until

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PEOPLE = {u.id for u in USERS} | {"UBOT"}
PLACES = {c.id for c in CHANNELS}
EXAMPLES = 500 if LONG else 25

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0TEAM|@team>",
    "<@U0MGR1>",
    "<@W0X|boss>",
    "<#C0MANAGERS>",
    "<#C0SUPPORT|support>",
    "<http://evil.example/login|Slack sign-in>",
    "<https://evil.example>",
    "<mailto:x@evil.example|mail me>",
    "<!date^1^{date}|today>",
    "&",
    "&amp;",
    "&lt;!channel&gt;",
    "<",
    ">",
    "`",
    "```",
    "*bold*",
    "_it_",
    "~s~",
    "\n",
    "\r\n",
    "\n>quote",
    "\u202e",  # right-to-left override
    "\u2067",  # right-to-left isolate
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",
    "@here",
    "@channel",
    "|",
    "🔥",
    "中文",
    "עברית",
]
piece = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
mixed = st.lists(piece, max_size=40).map("".join)
repeated = st.tuples(st.sampled_from(HOSTILE), st.integers(1, 3000)).map(lambda t: t[0] * t[1])


def capped(limit: int) -> st.SearchStrategy[str]:
    """Hostile text a field can hold: non-empty after strip, at most ``limit`` characters."""
    return st.one_of(mixed, repeated).map(lambda s: ("x" + s.strip())[:limit])


free_text = st.one_of(mixed, repeated).map(lambda s: s[:3000])  # a modal input's maximum


def checker() -> Checker:
    return Checker(PEOPLE, PLACES)


def assert_safe_message(text: str, body: list[dict[str, Any]] | None = None) -> None:
    found = checker().message(text, body)
    assert found == [], found


def assert_safe_view(view: dict[str, Any]) -> None:
    found = checker().view(view)
    assert found == [], found


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    state = draw(st.sampled_from(list(TicketState)))
    return Ticket(
        number=draw(st.integers(1, 10**9 - 1)),
        summary=draw(capped(SUMMARY_MAX)),
        details=draw(capped(DETAILS_MAX)),
        system=draw(st.one_of(st.just(""), capped(SYSTEM_MAX))),
        severity=draw(st.sampled_from(list(Severity))),
        state=state,
        reporter_id="U0REP",
        origin_channel="C0CUST1",
        post_channel="C0SUPPORT",
        customer=draw(st.one_of(st.none(), capped(200))),
        in_warranty=draw(st.booleans()),
        assignee_id=draw(st.sampled_from([None, "U0ENG1"])),
        reported_at=NOW - timedelta(minutes=draw(st.integers(0, 10_000))),
        acknowledged_at=draw(st.sampled_from([None, NOW])),
        cause_at=None,
        plan_at=None,
        resolved_at=None,
        closed_at=None,
        version=3,
        fix_date=draw(st.sampled_from([None, date(2026, 12, 1)])),
        cause=draw(free_text),
        plan=draw(free_text),
        resolution=draw(free_text),
        rating=draw(st.sampled_from([None, 1, 5])),
        rating_comment=draw(free_text),
        extra={"declined_reason": draw(free_text), "approval": "declined"},
    )


DEADLINES = {"respond": NOW + timedelta(minutes=15), "diagnose": NOW + timedelta(hours=1)}
STORY_KINDS = [
    "ack", "take", "assign", "cause", "plan", "resolve", "wait", "resume", "severity",
    "accept", "decline", "note", "close", "reopen", "escalate", "confirm", "reject", "autoclose",
]  # fmt: skip


TRANSLATORS = [translator(language) for language in Language]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ticket=tickets(), note=free_text, offer=free_text)
def test_every_builder_shows_user_text_as_text_within_slack_limits(
    ticket: Ticket, note: str, offer: str
) -> None:
    for tr in TRANSLATORS:  # each language's words around the same user text
        _builders_are_safe(tr, ticket, note, offer)
    events = [
        EventView(NOW, "U0ENG1", kind, note, "A")
        for kind in ("note", "cause", "severity", "reported")
    ] * 10
    listed = [Listed(ticket, ("respond", NOW + timedelta(minutes=5)))] * 60
    on_call = OnCall("U0ENG1", "U0ENG3", NOW, NOW + timedelta(days=7))
    for tr in TRANSLATORS:
        shown = show_blocks(TicketView(ticket, DEADLINES, events), NOW, tr)
        assert_safe_message(ticket.ref, shown)
        assert_safe_message("Open tickets", list_blocks(tr, listed, NOW, "Open tickets"))
        assert_safe_view(home_view(tr, HomeData(listed, listed, (on_call, on_call)), NOW))
    engineer = Actor("U0ENG1", engineer=True)
    for tr in TRANSLATORS:
        for kind in StageKind:
            stage = Stage(Milestone.DIAGNOSE, kind, NOW, 75)
            due = NOW + timedelta(hours=1)
            said = blocks_pages.reminder(tr, ticket, stage, due=due, now=NOW, who="U0ENG1")
            assert_safe_message(said)
            assert_safe_message(
                *blocks_pages.page(tr, ticket, stage, due=due, now=NOW, to=engineer, link=None)
            )
            assert_safe_message(*blocks_pages.managers_notice(tr, ticket, stage, due=due, now=NOW))
            assert_safe_message(
                *blocks_pages.escalation_page(tr, ticket, "U0ENG1", now=NOW, to=engineer)
            )
            assert_safe_message(
                blocks_pages.thread_note(tr, ticket, stage, due=due, now=NOW, who="U0ENG3")
            )


def _builders_are_safe(tr: Translator, ticket: Ticket, note: str, offer: str) -> None:
    assert_safe_message(
        blocks.ticket_fallback_text(ticket), blocks.ticket_message(ticket, DEADLINES, NOW, tr=tr)
    )
    assert_safe_view(
        report_form.report_modal(
            tr,
            summary=ticket.summary,
            details=ticket.details,
            system=ticket.system,
            answers=(False, True),
            metadata={"channel": "C0RANDOM"},
        )
    )
    assert_safe_view(report_form.report_confirmation(tr, ticket, DEADLINES, NOW))
    # the offer's button carries a key to the mention's text, kept by the bot
    offer_blocks = report_form.report_offer(tr, "evt:Ev0123")
    assert_safe_message("Shall I open a ticket for this?", offer_blocks)
    summary, details = report_form.report_from_text(offer)
    assert_safe_view(report_form.report_modal(tr, summary=summary, details=details))
    confirmed = story_line(tr, Change(ticket, "confirm", {}, {"text": note}), "U0REP")
    for notice in (
        blocks_ticket.confirm_request(tr, ticket),
        blocks_ticket.approval_request(tr, ticket),
        *(blocks_ticket.answered_prompt(tr, ticket, p, confirmed) for p in Prompt),
    ):
        assert_safe_message(notice.text, notice.blocks)
    assert_safe_message(blocks_ticket.approval_outcome(tr, ticket))
    for view in (
        blocks_ticket.rating_modal(tr, ticket),
        blocks_ticket.checklist_modal(tr, ticket, ticket.resolution),
        blocks_ticket.decline_modal(tr, ticket),
    ):
        assert_safe_view(view)


@settings(max_examples=EXAMPLES, deadline=None)
@given(ticket=tickets(), kind=st.sampled_from(STORY_KINDS), text=free_text)
def test_every_story_line_shows_user_text_as_text(ticket: Ticket, kind: str, text: str) -> None:
    if kind == "assign":
        ticket = Ticket(**{**ticket.__dict__, "assignee_id": "U0ENG3"})
    change = Change(ticket, kind, {"severity": "C"}, {"text": text})
    for tr in TRANSLATORS:
        line = story_line(tr, change, "U0ENG2")
        assert_safe_message(line)
        assert "#" + str(ticket.number) in line


@settings(max_examples=EXAMPLES, deadline=None)
@given(verb=st.sampled_from(["", "note", "assign", "severity", "plan", "list", "frob"]), rest=mixed)
def test_a_bad_command_quotes_user_text_as_text(verb: str, rest: str) -> None:
    for line in (f"{rest} 1", f"{verb} {rest}", f"{verb} 1 {rest}", f"{verb} #{rest}"):
        try:
            parse(line)
        except UserError as refusal:
            for tr in TRANSLATORS:
                assert_safe_message(tr.say(refusal.message))


def test_a_long_note_still_fits_in_one_slack_message() -> None:
    ticket = make_ticket(summary="s", details="d", reported_at=NOW)
    for kind in ("note", "cause", "plan", "resolve"):
        text = "<" * 10_000  # a thread mention can carry 40,000 characters
        done = Ticket(**{**ticket.__dict__, "cause": text, "plan": text, "resolution": text})
        for tr in TRANSLATORS:
            line = story_line(tr, Change(done, kind, {}, {"text": text}), "U0ENG1")
            assert len(line) <= MESSAGE_TEXT, (kind, len(line))


# ---- over HTTP: the real modal, the real outbox, the stand-in's record ------------------------

SUMMARY = "<!channel> <@U0MGR1> <http://evil.example|log in> & `x` \u202e\u200b"
DETAILS = "line 1 <!here>\n```<#C0MANAGERS>```\n&lt;!everyone&gt; <https://evil.example>\n" * 20


def all_bot_output(running: Running) -> list[tuple[str, list[str]]]:
    """Every message, ephemeral and view the bot made at the stand-in, with its findings."""
    slack = running.slack
    out = []
    for msg in slack.all_messages():
        if msg.user == slack.bot_user_id:
            out.append((f"message {msg.text[:30]!r}", checker().message(msg.text, msg.blocks)))
            for edit in msg.edits:
                out.append(("edit", checker().message(edit.text, edit.blocks)))
    for user in slack.users:
        for eph in slack.ephemerals(user):
            out.append((f"ephemeral {eph.text[:30]!r}", checker().message(eph.text, eph.blocks)))
    for stored in slack.views.values():
        out.append((f"view {stored.id}", checker().view(stored.view)))
    return out


async def test_a_hostile_report_reaches_slack_as_text(running: Running) -> None:
    slack = running.slack
    view_id = await open_report(slack, text=SUMMARY)
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
    sent = await slack.view_submission(
        user="U0REP",
        view_id=view_id,
        values={"summary": SUMMARY, "details": DETAILS[:3000], "system": "<!channel>&"},
    )
    assert sent.json["response_action"] == "update"
    assert checker().view(sent.json["view"]) == []
    ticket_message = await until(lambda: next(iter(slack.messages("C0SUPPORT")), None))
    await until(lambda: len(slack.messages("C0SUPPORT", ticket_message.ts)) > 1)
    note = await slack.slash_command(
        user="U0ENG1", command="/ticket", text=f"note 1 {SUMMARY}", channel="C0SUPPORT"
    )
    assert note.status == 200
    await until(lambda: len(slack.messages("C0SUPPORT", ticket_message.ts)) > 2)
    shown = await slack.slash_command(user="U0ENG1", command="/ticket", text="show 1")
    assert checker().message(shown.json["text"], shown.json["blocks"]) == []
    await slack.app_home_opened(user="U0ENG1")
    await until(lambda: slack.home("U0ENG1"))
    findings = all_bot_output(running)
    assert len(findings) >= 5
    assert [f for f in findings if f[1]] == []
    # the user's text is there, shown as text
    header, *rest = ticket_message.blocks or []
    # a header is plain text: Slack reads no mention nor link in it, and shows it as typed
    assert header["text"] == {"type": "plain_text", "text": f"#1 {SUMMARY}", "emoji": True}
    body = json.dumps(rest)
    assert "&lt;!here&gt;" in body and "&lt;https://evil.example&gt;" in body
    assert "&amp;lt;!everyone&amp;gt;" in body  # typed entities are shown as typed
    assert live_sequences(body, PEOPLE, PLACES) == []


async def test_a_note_too_long_for_slack_does_not_hold_up_the_ticket(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    view_id = await open_report(slack, text="Scale offline")
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
    await slack.view_submission(user="U0REP", view_id=view_id, values={"details": "since 9"})
    message = await until(lambda: next(iter(slack.messages("C0SUPPORT")), None))
    long_note = await slack.slash_command(
        user="U0ENG1", command="/ticket", text="note 1 " + "<&" * 5_000, channel="C0SUPPORT"
    )
    assert long_note.status == 200
    ack = await slack.slash_command(user="U0ENG1", command="/ticket", text="ack 1")
    assert ack.status == 200

    await until(
        lambda: any(len(m.text) > 2_000 for m in slack.messages("C0SUPPORT", message.ts)),
        limit=30,
        what="the long note's thread line, cut to fit",
    )
    assert max(len(m.text) for m in slack.messages("C0SUPPORT", message.ts)) <= 40_000
    await until(
        lambda: any("acknowledged #1" in m.text for m in slack.messages("C0SUPPORT", message.ts)),
        limit=5,
        what="the ack's thread line after the refused note",
    )
