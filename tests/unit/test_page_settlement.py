"""A page is settled by the first recorded change after it was sent that took its step."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.page_settlement import Change, Settled, Step, settlement
from tests.unit.test_blocks import NOW

LATER = NOW + timedelta(minutes=5)
ACK = Change(LATER, "U0ENG1", {"acknowledged_at": LATER.isoformat(), "state": "acknowledged"})


def test_a_page_is_settled_by_the_first_change_that_took_its_step_after_it_was_sent() -> None:
    page = {"milestone": "respond"}
    assert settlement(page, NOW, []) is None
    assert settlement(page, NOW, [ACK]) == Settled(Step.MET, "respond", "U0ENG1")
    assert settlement(page, LATER + timedelta(seconds=1), [ACK]) is None  # before the page
    reopened = Change(LATER, "U0REP", {"acknowledged_at": None, "state": "open"})
    assign = Change(LATER, "U0MGR1", {"assignee_id": "U0ENG2"})
    later = [ACK, assign, reopened]
    assert settlement(page, NOW, later) == Settled(Step.MET, "respond", "U0ENG1")


def test_a_managers_page_is_settled_by_a_new_owner_or_the_ticket_closed() -> None:
    page = {"manager": True, "assignee": "U0ENG1", "milestone": "diagnose"}
    same = Change(LATER, "U0MGR1", {"assignee_id": "U0ENG1"})
    assert settlement(page, NOW, [same]) is None
    take = Change(LATER, "U0MGR1", {"assignee_id": "U0MGR1"})
    assert settlement(page, NOW, [take]) == Settled(Step.TAKEN, "", "U0MGR1")
    closed = Change(LATER, "", {"closed_at": LATER.isoformat(), "state": "closed"})
    assert settlement(page, NOW, [closed]) == Settled(Step.ENDED, "closed", None)


def test_a_page_is_settled_by_a_reclassify_its_class_and_due_time_no_longer_hold() -> None:
    page = {"milestone": "respond"}
    note = Change(LATER, "U0ENG1", {})
    reported = Change(NOW, "U0REP", {"severity": "A", "state": "open"}, "report")
    reclassified = Change(LATER, "U0MGR1", {"severity": "C"}, "severity")
    expected = Settled(Step.RECLASSIFIED, "C", "U0MGR1")
    assert settlement(page, NOW, [reported]) is None  # the class it was reported in
    assert settlement(page, NOW, [reported, note, reclassified]) == expected
    assert settlement(page, NOW, [ACK, reclassified]) == Settled(Step.MET, "respond", "U0ENG1")
