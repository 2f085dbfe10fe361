"""What the bot owes Slack, by kind: the vocabulary of the outbox."""

from __future__ import annotations

from enum import StrEnum


class NoticeKind(StrEnum):
    TICKET_MESSAGE = "ticket_message"  # the ticket's card in its channel, posted or updated
    THREAD = "thread"  # a line in the ticket's thread
    DM = "dm"  # a direct message to one person
    PAGE = "page"  # an on-call or manager page, by direct message
    MANAGERS = "manager_notice"  # a post in the managers channel
    CHANNEL = "message"  # a post in the channel its payload names
    SETTLE = "settle"  # the messages of an answered prompt, updated in place (no buttons)
