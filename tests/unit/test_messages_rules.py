"""The rules behind messages that stay true: who is offered which button, which prompts a
step answers, what a reopen keeps, and how user text is cut and escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Config
from bot.domain.roles import may
from bot.domain.tickets import TicketState, deadlines_of, kept
from bot.domain.workflow import NotAllowed, Prompt, Step, apply, fits, settled
from bot.sla.policy import Severity
from bot.sla.stages import DEADLINE_KINDS, Stage, parse_key, shows_deadline, ticket_stages
from bot.slack import blocks, report_form
from bot.slack.i18n import Language, translator
from bot.slack.ids import Action
from tests.unit.test_workflow import ENGINEER, MANAGER, NOW, REPORTER, STRANGER, new_ticket

EN = translator(Language.EN)

MIN = timedelta(minutes=1)


def closed_after_sign_off():  # type: ignore[no-untyped-def]
    resolved = apply(new_ticket(), Step("resolve", text="fixed"), actor=ENGINEER, now=NOW)
    return resolved, apply(
        resolved.ticket, Step("confirm", rating=4), actor=REPORTER, now=NOW + MIN
    )


def test_no_not_yet_answers_only_a_resolved_ticket() -> None:
    resolved, confirmed = closed_after_sign_off()
    with pytest.raises(NotAllowed, match=r"answered already.*/ticket reopen 1"):
        apply(confirmed.ticket, Step("reject"), actor=REPORTER, now=NOW + 2 * MIN)
    with pytest.raises(NotAllowed, match="no longer waits for your sign-off"):
        apply(new_ticket(), Step("reject"), actor=REPORTER, now=NOW)
    reopened = apply(resolved.ticket, Step("reject"), actor=REPORTER, now=NOW + MIN)
    assert reopened.ticket.state is TicketState.OPEN
    # the reporter still reopens a closed ticket, on purpose, with /ticket reopen
    again = apply(confirmed.ticket, Step("reopen"), actor=REPORTER, now=NOW + 2 * MIN)
    assert again.ticket.state is TicketState.OPEN


def test_a_step_settles_the_prompts_of_the_state_it_leaves() -> None:
    resolved, confirmed = closed_after_sign_off()
    assert settled(resolved) == []
    assert settled(confirmed) == [Prompt.SIGNOFF]
    waiting = new_ticket(state=TicketState.AWAITING_APPROVAL)
    accepted = apply(waiting, Step("accept"), actor=MANAGER, now=NOW)
    assert settled(accepted) == [Prompt.APPROVAL]
    noted = apply(resolved.ticket, Step("note", text="x"), actor=REPORTER, now=NOW)
    assert settled(noted) == []  # still awaiting sign-off


def test_buttons_are_offered_by_the_workflows_rules() -> None:
    t = new_ticket()
    assert may(t, "take", MANAGER) and not may(t, "ack", MANAGER)
    assert may(t, "reject", REPORTER) and not may(t, "reject", STRANGER)
    assert fits(t, Step("ack"), NOW)
    acked = apply(t, Step("ack"), actor=ENGINEER, now=NOW).ticket
    assert not fits(acked, Step("ack"), NOW)

    def labels(ticket, actor=None):  # type: ignore[no-untyped-def]
        return [b["text"]["text"] for b in blocks.ticket_actions(EN, ticket, NOW, actor)]

    assert labels(t) == ["Acknowledge", "Take", "Resolve", "Escalate"]
    assert labels(acked) == ["Take", "Resolve", "Escalate"]
    assert labels(t, MANAGER) == ["Take", "Escalate"]
    assert labels(t, ENGINEER) == ["Acknowledge", "Take", "Resolve", "Escalate"]
    closed = new_ticket(state=TicketState.CLOSED, closed_at=NOW)
    assert labels(closed) == []
    assert set(blocks.BUTTON_STEPS) >= {Action.ACK, Action.CONFIRM_NO, Action.APPROVE}


def test_a_reopen_starts_a_respond_round_and_keeps_the_first_acknowledgement(
    config: Config,
) -> None:
    acked = apply(new_ticket(), Step("ack"), actor=ENGINEER, now=NOW + 5 * MIN).ticket
    closed = apply(acked, Step("close"), actor=ENGINEER, now=NOW + 10 * MIN).ticket
    later = NOW + timedelta(hours=3)
    reopened = apply(closed, Step("reopen"), actor=REPORTER, now=later).ticket
    assert reopened.acknowledged_at is None and reopened.reopens == 1
    assert reopened.first_acknowledged_at == NOW + 5 * MIN
    assert reopened.respond_from == later
    policy, calendar = config.policy, config.calendar
    now_due = deadlines_of(reopened, policy=policy, calendar=calendar)
    first = deadlines_of(reopened, policy=policy, calendar=calendar, as_promised=True)
    assert now_due.respond == later + 15 * MIN and first.respond == NOW + 15 * MIN
    assert kept(reopened, first, later)["respond"] is True
    # a second reopen keeps the very first acknowledgement and counts the round
    acked_again = apply(reopened, Step("ack"), actor=ENGINEER, now=later + MIN).ticket
    closed_again = apply(acked_again, Step("close"), actor=ENGINEER, now=later + 2 * MIN).ticket
    twice = apply(closed_again, Step("reopen"), actor=REPORTER, now=later + 3 * MIN).ticket
    assert twice.reopens == 2 and twice.first_acknowledged_at == NOW + 5 * MIN
    # never acknowledged by the first deadline: missed, whatever came after a reopen
    late = apply(new_ticket(), Step("ack"), actor=ENGINEER, now=NOW + 20 * MIN).ticket
    assert (
        kept(late, deadlines_of(late, policy=policy, calendar=calendar), later)["respond"] is False
    )

    stages = ticket_stages(
        ticket=twice,
        deadlines=deadlines_of(twice, policy=policy, calendar=calendar),
        terms=policy.terms(Severity.A, in_warranty=True),
        calendar=calendar,
        now=later + 3 * MIN,
    )
    respond = {s.key: s.due for s in stages if s.key.startswith("respond:")}
    assert respond["respond:page:primary@2"] == later + 3 * MIN
    assert respond["respond:page:secondary@2"] == later + 18 * MIN
    assert parse_key("respond:reminder:50@2")[2] == 50


def test_a_stage_at_a_deadline_shows_the_card_again() -> None:
    from bot.sla.policy import Milestone
    from bot.sla.stages import StageKind

    at = datetime(2026, 11, 23, tzinfo=UTC)
    assert shows_deadline([Stage(Milestone.PLAN, StageKind.OVERDUE, at)])
    assert shows_deadline([Stage(Milestone.PLAN, StageKind.BREACH, at)])
    assert not shows_deadline([Stage(Milestone.PLAN, StageKind.REMINDER, at, 90)])
    assert StageKind.REPEAT not in DEADLINE_KINDS  # its breach came first, sent or superseded


CLUSTERS = ["e\u0301", "👍🏽", "👨‍👩‍👧", "🇨🇳", "中", "&", "<", ">", "a"]


@given(st.lists(st.sampled_from(CLUSTERS), max_size=60), st.integers(min_value=2, max_value=40))
def test_user_text_is_cut_between_characters_then_escaped(parts: list[str], limit: int) -> None:
    text = "".join(parts)
    shown = blocks.escaped(text, limit)
    assert len(shown) <= limit
    if shown == blocks.escape(text):
        return
    assert shown.endswith("…")
    kept_raw = blocks.escape("".join(parts))  # the escaped whole, cut at a cluster's end
    head = shown[:-1]
    assert kept_raw.startswith(head)
    ends = {len(blocks.escape("".join(parts[:n]))) for n in range(len(parts) + 1)}
    assert len(head) in ends  # never inside an entity, an emoji or a letter with its accent


@given(st.lists(st.sampled_from(CLUSTERS), max_size=60), st.integers(min_value=2, max_value=40))
def test_plain_text_is_cut_between_characters_and_not_escaped(parts: list[str], limit: int) -> None:
    text = "".join(parts)
    shown = blocks.plain(text, limit)["text"]
    assert len(shown) <= limit
    if shown != text:
        ends = {len("".join(parts[:n])) for n in range(len(parts) + 1)}
        assert len(shown) - 1 in ends and shown.endswith("…")


def test_a_header_shows_the_summary_as_typed() -> None:
    t = new_ticket(summary="R&D <team> > ops")
    header = blocks.ticket_message(t, {}, NOW)[0]
    assert header["text"]["text"] == "#1 R&D <team> > ops"
    long = blocks.ticket_message(new_ticket(summary="&" * 400), {}, NOW)[0]
    assert long["text"]["text"] == "#1 " + "&" * 146 + "…"


def test_mrkdwn_is_kept_under_its_limit_without_cutting_a_token() -> None:
    text = "x" * 2990 + " <@U0ENG1> &amp; more"
    shown = blocks.mrkdwn(text)["text"]
    assert len(shown) <= 3000 and shown.endswith("…") and "<@U0" not in shown


def test_report_from_text_takes_the_first_line_as_summary() -> None:
    summary, details = report_form.report_from_text("\n  Printer on fire \nsince 9\n")
    assert (summary, details) == ("Printer on fire", "Printer on fire \nsince 9")
    long, _ = report_form.report_from_text("字" * 400)
    assert len(long) == 150 and long.endswith("…")


def test_a_fix_date_is_shown_as_the_day_and_a_passed_deadline_as_overdue() -> None:
    from datetime import date

    t = new_ticket(fix_date=date(2026, 12, 2), acknowledged_at=NOW)
    due = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    body = blocks.ticket_message(t, {"resolve": due, "diagnose": NOW + MIN}, NOW + 30 * MIN)
    fields = next(b for b in body if b.get("block_id") == "deadlines")["fields"]
    resolve, diagnose = (f["text"] for f in fields)
    assert "2026-12-02" in resolve and "<!date" not in resolve
    assert ":warning:" in diagnose and "overdue by 29 minutes" in diagnose
    assert "left" not in diagnose
