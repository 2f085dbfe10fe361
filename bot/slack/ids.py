"""The ids Slack sends back: button and select action ids, modal callback ids, the shortcut.

Each id is spelled once, here; builders put them on messages and handlers listen for them.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """``action_id`` of an interactive element."""

    ACK = "ticket_ack"
    TAKE = "ticket_take"
    RESOLVE = "ticket_resolve"
    ESCALATE = "ticket_escalate"
    OPEN = "ticket_open"  # a link button to the ticket message (Slack still sends the click)
    CONFIRM_YES = "confirm_yes"
    CONFIRM_NO = "confirm_no"
    APPROVE = "approval_accept"
    DECLINE = "approval_decline"
    TRIAGE = "triage_answer"
    REPORT_THIS = "report_this"


class Callback(StrEnum):
    """``callback_id`` of a modal or a shortcut."""

    REPORT = "report"
    REPORT_PENDING = "report_pending"  # the report modal while the ticket is being stored
    REPORT_DONE = "report_done"
    RATING = "rating"
    CHECKLIST = "resolve_checklist"
    DECLINE = "decline_reason"
    REPORT_SHORTCUT = "report_message"  # the message shortcut "Report a problem"
