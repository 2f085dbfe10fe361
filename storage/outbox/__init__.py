"""The outbox: messages owed to Slack, sent in order per conversation.

A conversation is where a message goes: a channel (a ticket's message and its thread lines
share their channel's), or one person's DM (``user:U…``). Rows of one conversation go one at
a time in (priority, id) order; only the head of each conversation can be claimed, so two
processes on one database never send a conversation's rows out of order. A claim leases its
rows to an owner (the process's instance name) with a token; the outcome is written back only
while that token still holds the row.
"""

from storage.outbox.claims import claim_heads, claim_query, next_due_at, take_over
from storage.outbox.notices import (
    GROUPED_KINDS,
    ROUTINE,
    TICKET_CHANNEL_KINDS,
    URGENT,
    Claimed,
    NewNotice,
    Notice,
    OutboxStats,
    answer_to,
    conversation_of,
    enqueue_many,
    priority_of,
    sent_prompts,
    stats,
)
from storage.outbox.outcomes import mark_failed, mark_sent, release, set_aside

__all__ = [
    "GROUPED_KINDS",
    "ROUTINE",
    "TICKET_CHANNEL_KINDS",
    "URGENT",
    "Claimed",
    "NewNotice",
    "Notice",
    "OutboxStats",
    "answer_to",
    "claim_heads",
    "claim_query",
    "conversation_of",
    "enqueue_many",
    "mark_failed",
    "mark_sent",
    "next_due_at",
    "priority_of",
    "release",
    "sent_prompts",
    "set_aside",
    "stats",
    "take_over",
]
