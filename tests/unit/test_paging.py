"""Pages: grouped into one message, settled when their step was taken."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.tickets import TicketState
from bot.slack import paging
from tests.unit.test_blocks import NOW, ticket


def test_a_group_names_every_ticket_with_its_own_buttons_within_slacks_block_limit() -> None:
    pages = [
        paging.escalation_page(ticket(number=n, summary=f"Lane {n} down"), "U0ENG1")
        for n in range(1, paging.MAX_GROUP + 1)
    ]
    text, body = paging.group(pages)
    assert text.startswith(f":rotating_light: {paging.MAX_GROUP} tickets need you")
    assert len(body) <= 50  # Slack's limit for one message
    actions = [b["block_id"] for b in body if b["type"] == "actions"]
    assert actions == [f"page_{n}" for n in range(1, paging.MAX_GROUP + 1)]
    assert paging.group(pages[:1]) == (pages[0][0], pages[0][1])  # one page: as it is


def test_an_engineers_page_settles_when_its_milestone_is_met() -> None:
    payload = {"milestone": "respond"}
    assert paging.settled_note(ticket(), payload) is None
    acked = ticket(acknowledged_at=NOW + timedelta(minutes=3), assignee_id="U0ENG1")
    assert paging.settled_note(acked, payload) == ":white_check_mark: #7 acknowledged by <@U0ENG1>."
    _, body = paging.escalation_page(ticket(), "U0ENG2")
    settled = paging.settle(body, 7, "done")
    assert [b["type"] for b in settled] == ["section", "context"]  # the buttons are gone
    assert settled[1]["elements"][0]["text"] == "done"


def test_a_managers_page_settles_when_someone_takes_the_ticket_or_it_is_resolved() -> None:
    payload = {"manager": True, "assignee": "U0ENG1"}
    assert paging.settled_note(ticket(assignee_id="U0ENG1"), payload) is None
    taken = ticket(assignee_id="U0MGR1")
    assert paging.settled_note(taken, payload) == ":white_check_mark: #7 taken by <@U0MGR1>."
    resolved = ticket(state=TicketState.RESOLVED, resolved_at=NOW)
    assert paging.settled_note(resolved, payload) == ":white_check_mark: #7 is resolved."
    buttons = [e["action_id"] for e in paging.manager_buttons(ticket(), None)]
    assert buttons == ["ticket_take", "ticket_escalate", "ticket_open"]
