"""A second round of sign-off (the first answered "No, not yet") settles its own prompt
only: the first prompt keeps saying what its own answer was."""

from __future__ import annotations

import json

from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.sla.policy import Severity
from tests.e2e.test_messages_true import dm_with, elements, once
from tests.e2e.test_tickets import open_ticket, say
from tests.harness import Running


async def resolve(slack: SlackStandIn, card: StoredMessage, text: str) -> None:
    """U0ENG1 presses Resolve on the card and sends the checklist with ``text``."""
    await slack.block_action(
        user="U0ENG1", action_id="ticket_resolve", channel=card.channel, message_ts=card.ts
    )

    def checklist() -> str | None:
        modal = slack.modal("U0ENG1")
        return modal.id if modal is not None and modal.callback_id == "resolve_checklist" else None

    view_id = await slack.wait_for(checklist)
    await slack.view_submission(user="U0ENG1", view_id=view_id, values={"resolution": text})


def prompts(slack: SlackStandIn) -> list[StoredMessage]:
    return [m for m in slack.messages(slack.dm_channel("U0REP")) if "Is it fixed?" in m.text]


async def test_the_first_sign_off_keeps_its_own_answer_after_a_second_round(
    running: Running,
) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.C)
    await say(slack, "U0ENG1", "ack 1")
    await resolve(slack, card, "restarted")
    first = await dm_with(slack, "U0REP", "Is it fixed?")
    await slack.block_action(
        user="U0REP", action_id="confirm_no", channel=first.channel, message_ts=first.ts
    )
    said_first = json.dumps((await once(slack, first, lambda m: not elements(m))).blocks)

    await say(slack, "U0ENG1", "ack 1")
    await resolve(slack, card, "replaced the disk")
    second = await slack.wait_for(lambda: prompts(slack)[1] if len(prompts(slack)) > 1 else None)
    await slack.block_action(
        user="U0REP", action_id="confirm_yes", channel=second.channel, message_ts=second.ts
    )
    rating = await slack.wait_for(lambda: slack.modal("U0REP"))
    await slack.view_submission(user="U0REP", view_id=rating.id, values={"rating": "5"})
    settled = await once(slack, second, lambda m: not elements(m))
    assert "rated it 5/5" in json.dumps(settled.blocks)
    # the second's settle updates the older prompts first: the first is as it will stay
    assert json.dumps(slack.message(first.channel, first.ts).blocks) == said_first
