"""Pages: grouped into one message, settled when their step was taken; the buttons a page
offers follow the ticket card's rule (the step fits the ticket, the paged person may take it)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.page_settlement import Settled, Step
from bot.domain.roles import Actor
from bot.domain.tickets import TicketState
from bot.sla.policy import Milestone
from bot.sla.stages import Stage, StageKind
from bot.slack import paging
from bot.slack.blocks import Block
from tests.unit.test_blocks import EN, NOW, ticket

ENGINEER = Actor("U0ENG1", engineer=True)
MANAGER = Actor("U0MGR1", manager=True)


def offered(blocks: list[Block]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_group_names_every_ticket_with_its_own_buttons_within_slacks_block_limit() -> None:
    pages = [
        paging.escalation_page(
            EN, ticket(number=n, summary=f"Lane {n} down"), "U0ENG1", now=NOW, to=MANAGER
        )
        for n in range(1, paging.MAX_GROUP + 1)
    ]
    text, body = paging.group(EN, pages)
    assert text.startswith(f":rotating_light: {paging.MAX_GROUP} tickets need you")
    assert len(body) <= 50  # Slack's limit for one message
    actions = [b["block_id"] for b in body if b["type"] == "actions"]
    assert actions == [f"page_{n}" for n in range(1, paging.MAX_GROUP + 1)]
    assert paging.group(EN, pages[:1]) == (pages[0][0], pages[0][1])  # one page: as it is


def test_a_long_group_text_ends_between_tokens_and_entities() -> None:
    stage = Stage(Milestone.RESPOND, StageKind.PAGE_SECONDARY, NOW)
    due = NOW + timedelta(minutes=5)
    pages = [  # each page's text carries a <!date^…|…> token
        paging.page(EN, ticket(number=n * 1_000_000), stage, due=due, now=NOW, to=ENGINEER)
        for n in range(1, paging.MAX_GROUP + 1)
    ]
    assert sum(len(t) for t, _ in pages) > 3000
    text, _ = paging.group(EN, pages)
    assert len(text) <= 3000 and text.endswith("…")
    head = text[:-1]
    assert head.rfind("&") < head.rfind(";") or "&" not in head  # no "&am" left at the end
    assert head.rfind("<") < head.rfind(">") or "<" not in head  # no "<!date^…" left open


def test_an_engineers_page_settled_says_who_met_its_milestone() -> None:
    note = paging.settled_note(EN, "#7", Settled(Step.MET, "respond", "U0ENG1"))
    assert note == ":white_check_mark: #7 acknowledged by <@U0ENG1>."
    note = paging.settled_note(EN, "#7", Settled(Step.MET, "diagnose", None))
    assert note == ":white_check_mark: #7: diagnose met."
    _, body = paging.escalation_page(EN, ticket(), "U0ENG2", now=NOW, to=MANAGER)
    settled = paging.settle(body, 7, "done")
    assert [b["type"] for b in settled] == ["section", "context"]  # the buttons are gone
    assert settled[1]["elements"][0]["text"] == "done"


def test_a_managers_page_settled_says_who_took_the_ticket_or_that_it_is_resolved() -> None:
    taken = paging.settled_note(EN, "#7", Settled(Step.TAKEN, "", "U0MGR1"))
    assert taken == ":white_check_mark: #7 taken by <@U0MGR1>."
    resolved = paging.settled_note(EN, "#7", Settled(Step.ENDED, "resolved", "U0ENG1"))
    assert resolved == ":white_check_mark: #7 is resolved."
    _, body = paging.escalation_page(EN, ticket(), "U0ENG1", now=NOW, to=MANAGER)
    assert offered(body) == ["ticket_take", "ticket_escalate", "ticket_open"]


def test_a_page_offers_what_it_asks_that_the_paged_person_may_do_and_that_fits_the_ticket() -> None:
    primary = Stage(Milestone.RESPOND, StageKind.PAGE_PRIMARY, NOW)
    managers = Stage(Milestone.DIAGNOSE, StageKind.PAGE_MANAGERS, NOW)
    due = NOW + timedelta(minutes=15)
    _, body = paging.page(EN, ticket(), primary, due=due, now=NOW, to=ENGINEER)
    assert offered(body) == ["ticket_ack", "ticket_open"]
    _, body = paging.page(EN, ticket(), managers, due=due, now=NOW, to=MANAGER)
    assert offered(body) == ["ticket_take", "ticket_escalate", "ticket_open"]
    # the roles' rule: a manager does not acknowledge, so a manager paged as the on-call
    # primary is offered only Open ticket; someone who is both is offered Acknowledge
    _, body = paging.page(EN, ticket(), primary, due=due, now=NOW, to=MANAGER)
    assert offered(body) == ["ticket_open"]
    both = Actor("U0BOTH", engineer=True, manager=True)
    _, body = paging.page(EN, ticket(), primary, due=due, now=NOW, to=both)
    assert offered(body) == ["ticket_ack", "ticket_open"]
    # the state's rule: a closed ticket is neither taken nor escalated
    closed = ticket(state=TicketState.CLOSED, closed_at=NOW)
    _, body = paging.escalation_page(EN, closed, "U0ENG1", now=NOW, to=MANAGER)
    assert offered(body) == ["ticket_open"]
    # the managers channel (shared): the steps that fit, whoever presses is checked then
    _, body = paging.managers_notice(EN, ticket(), managers, due=due, now=NOW)
    assert offered(body) == ["ticket_take", "ticket_escalate", "ticket_open"]


def test_pages_say_times_in_words_and_links_open_the_ticket() -> None:
    stage = Stage(Milestone.DIAGNOSE, StageKind.PAGE_MANAGERS, NOW)
    text, body = paging.page(
        EN, ticket(), stage, due=NOW + timedelta(minutes=15), now=NOW, to=MANAGER, link="https://x"
    )
    assert "#7 diagnose is not met yet" in text and "(15 minutes left)" in text
    opener = [e for b in body if b["type"] == "actions" for e in b["elements"]][-1]
    assert opener["url"] == "https://x" and opener["text"]["text"] == "Open ticket"
