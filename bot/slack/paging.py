"""Block Kit for reminders, pages and breach notices (SPEC §5).

Every message names the ticket as ``#N``; user text (the summary) goes through ``escaped``.
Each builder takes the translator ``tr`` of who reads it: the paged person's own language
for a page, the workspace's for the ticket's thread and the managers channel.

A page offers the steps it asks for (an engineer's page: acknowledge; a manager's: take the
ticket or escalate it further) by the ticket card's own rule (:func:`bot.slack.blocks.offered`:
the step fits the ticket now and the paged person's role may take it), and Open ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.page_settlement import Settled, Step
from bot.domain.roles import Actor
from bot.domain.tickets import Ticket, TicketState
from bot.sla.stages import Stage, StageKind
from bot.slack.blocks import (
    SEVERITY_EMOJI,
    TICKET_BUTTONS,
    Block,
    button,
    escaped,
    fit_markup,
    mrkdwn,
    offered,
    plain,
)
from bot.slack.i18n import Translator, mention
from bot.slack.ids import Action
from bot.slack.ticket_card import OPEN_BUTTON

# Pages that ask an engineer to acknowledge (the respond milestone's); the others ask the
# managers to take the ticket or escalate it.
ENGINEER_PAGES = frozenset({StageKind.PAGE_PRIMARY, StageKind.PAGE_SECONDARY})
ASKS_ENGINEER = (Action.ACK,)
ASKS_MANAGER = (Action.TAKE, Action.ESCALATE)
MAX_GROUP = 24  # pages in one message (Slack takes 50 blocks: a header, two per page)
SUMMARY_MAX = 80  # of the summary in a page's title


def _who(tr: Translator, user: str | None) -> str:
    return mention(user) if user else tr("_no one on call_")


def _title(tr: Translator, ticket: Ticket) -> str:
    emoji = SEVERITY_EMOJI[ticket.severity]
    title = tr(
        "*%(ref)s* (class %(severity)s) %(summary)s",
        ref=ticket.ref,
        severity=ticket.severity.value,
        summary=escaped(ticket.summary, SUMMARY_MAX),
    )
    return f"{emoji} {title}"


def _when(tr: Translator, due: datetime, now: datetime) -> str:
    return tr.aside(tr.date_token(due), tr.time_left(due, now))


def reminder(
    tr: Translator, ticket: Ticket, stage: Stage, *, due: datetime, now: datetime, who: str | None
) -> str:
    """The thread reply of a reminder, naming the owner (or the on-call engineer)."""
    said = tr(
        "%(ref)s: %(percent)s%% of the %(milestone)s time is gone; due %(when)s. %(who)s",
        ref=ticket.ref,
        percent=stage.number,
        milestone=tr.milestone_verb(stage.milestone.value),
        when=_when(tr, due, now),
        who=_who(tr, who),
    )
    return f":alarm_clock: {said}"


def page_text(tr: Translator, ticket: Ticket, stage: Stage, *, due: datetime, now: datetime) -> str:
    """One line saying why this page was sent (also the notification's fallback text)."""
    kind = stage.kind
    params: dict[str, object] = {
        "ref": ticket.ref,
        "when": _when(tr, due, now),
        "milestone": tr.milestone_verb(stage.milestone.value),
    }
    if kind is StageKind.PAGE_PRIMARY:
        return tr(
            "%(ref)s class %(severity)s needs a response: respond by %(when)s.",
            severity=ticket.severity.value,
            **params,
        )
    if kind is StageKind.PAGE_SECONDARY:
        return tr("%(ref)s is not acknowledged: the respond target passed %(when)s.", **params)
    if kind is StageKind.REPEAT:
        return tr(
            "%(ref)s %(milestone)s is still not met: due %(when)s (repeat %(n)d).",
            n=stage.number,
            **params,
        )
    if kind is StageKind.BREACH:
        return tr("%(ref)s breached its %(milestone)s promise: due %(when)s.", **params)
    return tr("%(ref)s %(milestone)s is not met yet: due %(when)s.", **params)


def page(
    tr: Translator,
    ticket: Ticket,
    stage: Stage,
    *,
    due: datetime,
    now: datetime,
    to: Actor | None,
    link: str | None = None,
) -> tuple[str, list[Block]]:
    """A direct message that pages ``to``: the ticket and why (with its due time and the time
    left), and the steps the page asks for that ``to`` may take (an engineer's page:
    Acknowledge; a manager's: Take, Escalate), and Open ticket; ``to`` None: a channel's
    (whoever presses is checked then). Two blocks, so that 24 pages fit one grouped
    message."""
    why = page_text(tr, ticket, stage, due=due, now=now)
    asks = ASKS_ENGINEER if asks_engineer(stage) else ASKS_MANAGER
    buttons = page_buttons(tr, ticket, now, to, asks, link)
    head = f":rotating_light: {_title(tr, ticket)}\n{why}"
    return f":rotating_light: {why}", _page_blocks(ticket, head, buttons)


def asks_engineer(stage: Stage) -> bool:
    """Whether a page of this stage asks an engineer to acknowledge (else the managers)."""
    return stage.kind in ENGINEER_PAGES


def escalation_page(
    tr: Translator, ticket: Ticket, by: str, *, now: datetime, to: Actor
) -> tuple[str, list[Block]]:
    """The managers' page when someone escalates a ticket: Take, Escalate, Open ticket."""
    text = tr(
        "%(who)s escalated %(ref)s (class %(severity)s).",
        who=mention(by),
        ref=ticket.ref,
        severity=ticket.severity.value,
    )
    text = f":rotating_light: {text}"
    buttons = page_buttons(tr, ticket, now, to, ASKS_MANAGER, None)
    return text, _page_blocks(ticket, f"{text}\n{_title(tr, ticket)}", buttons)


def _page_blocks(ticket: Ticket, head: str, buttons: list[Block]) -> list[Block]:
    n = ticket.number
    return [
        {"type": "section", "block_id": f"page_{n}_head", "text": mrkdwn(head)},
        {"type": "actions", "block_id": f"page_{n}", "elements": buttons},
    ]


def page_buttons(
    tr: Translator,
    ticket: Ticket,
    now: datetime,
    to: Actor | None,
    asks: Sequence[Action],
    link: str | None,
) -> list[Block]:
    """The steps ``asks`` that the card's rule offers ``to`` now (labelled and styled as on
    the card; ``to`` None: a message many share), then Open ticket (linked to the ticket's
    message when it is posted)."""
    found = [
        button(tr(label), action_id, str(ticket.number), style)
        for action_id, label, style in TICKET_BUTTONS
        if action_id in asks and offered(ticket, action_id, now, to)
    ]
    opener = button(tr.marked(OPEN_BUTTON), Action.OPEN, str(ticket.number))
    return [*found, opener | {"url": link} if link else opener]


def group(tr: Translator, pages: Sequence[tuple[str, Sequence[Block]]]) -> tuple[str, list[Block]]:
    """Pages to one person that fell due together, as one message naming every ticket (each
    with its class, summary and buttons), as alerting tools group alerts."""
    if len(pages) == 1:
        text, body = pages[0]
        return text, list(body)
    need = tr.plural("%(n)d ticket needs you", "%(n)d tickets need you", len(pages))
    blocks: list[Block] = [{"type": "header", "text": plain(need)}]
    for _, body in pages:
        blocks += body
    text = f":rotating_light: {need}: " + " ".join(
        t.removeprefix(":rotating_light: ") for t, _ in pages
    )
    return fit_markup(text, 3000), blocks  # no <!date^…> token or &amp; cut in two


def settled_note(tr: Translator, ref: str, settled: Settled) -> str:
    """What a page for ticket ``ref`` says once its step was taken (``settled``, from the
    ticket's record): the milestone it names met, someone taking the ticket (a manager's
    page), the ticket resolved, closed or reclassified; and who took that step."""
    who = mention(settled.by) if settled.by else None
    if settled.step is Step.ENDED:
        state = TicketState(settled.what)
        return ":white_check_mark: " + tr("%(ref)s is %(state)s.", ref=ref, state=state)
    if settled.step is Step.TAKEN:
        return ":white_check_mark: " + tr("%(ref)s taken by %(who)s.", ref=ref, who=who)
    if settled.step is Step.RECLASSIFIED:
        said = (
            tr(
                "%(ref)s reclassified as class %(severity)s by %(who)s; "
                "its deadlines are recomputed.",
                ref=ref,
                severity=settled.what,
                who=who,
            )
            if who
            else tr(
                "%(ref)s is now class %(severity)s; its deadlines are recomputed.",
                ref=ref,
                severity=settled.what,
            )
        )
        return f":arrows_counterclockwise: {said}"
    if settled.what == "respond":
        said = (
            tr("%(ref)s acknowledged by %(who)s.", ref=ref, who=who)
            if who
            else tr("%(ref)s acknowledged.", ref=ref)
        )
    else:
        verb = tr.milestone_verb(settled.what)
        said = (
            tr("%(ref)s: %(milestone)s met by %(who)s.", ref=ref, milestone=verb, who=who)
            if who
            else tr("%(ref)s: %(milestone)s met.", ref=ref, milestone=verb)
        )
    return f":white_check_mark: {said}"


def settle(blocks: Sequence[Block], number: int, note: str) -> list[Block]:
    """The page's (or breach notice's) blocks with ticket ``number``'s buttons replaced by
    ``note``."""
    result: list[Block] = []
    asks = (f"page_{number}", f"breach_{number}")
    for block in blocks:
        if block.get("block_id") in asks and block.get("type") == "actions":
            block = {
                "type": "context",
                "block_id": f"page_{number}_done",
                "elements": [mrkdwn(note)],
            }
        result.append(block)
    return result


def with_link(blocks: Sequence[Block], link: str) -> list[Block]:
    """The same blocks with the Open ticket button linking to the ticket message."""
    result: list[Block] = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [
                {**element, "url": link} if element.get("action_id") == Action.OPEN else element
                for element in block.get("elements", [])
            ]
            block = {**block, "elements": elements}
        result.append(block)
    return result


def breach_notice(
    tr: Translator, ticket: Ticket, stage: Stage, *, due: datetime, now: datetime
) -> tuple[str, list[Block]]:
    """The notice in the managers channel when a promise is broken."""
    why = page_text(tr, ticket, stage, due=due, now=now)
    buttons = page_buttons(tr, ticket, now, None, ASKS_MANAGER, None)
    head = tr("*Breach*")
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(f":fire: {head} {_title(tr, ticket)}\n{why}")},
        {"type": "actions", "block_id": f"breach_{ticket.number}", "elements": buttons},
    ]
    return ":fire: " + tr("Breach: %(why)s", why=why), blocks


def managers_notice(
    tr: Translator, ticket: Ticket, stage: Stage, *, due: datetime, now: datetime
) -> tuple[str, list[Block]]:
    """What the managers channel is told of a stage: a breach, or a page to the managers."""
    if stage.kind is StageKind.BREACH:
        return breach_notice(tr, ticket, stage, due=due, now=now)
    return page(tr, ticket, stage, due=due, now=now, to=None)


def thread_note(
    tr: Translator, ticket: Ticket, stage: Stage, *, due: datetime, now: datetime, who: str | None
) -> str:
    """What the ticket's thread says about an escalation step."""
    kind, ref = stage.kind, ticket.ref
    if kind is StageKind.PAGE_PRIMARY:
        said = tr(
            "%(ref)s: no one is on call to page; respond by %(when)s.",
            ref=ref,
            when=_when(tr, due, now),
        )
        return f":warning: {said}"
    if kind is StageKind.PAGE_SECONDARY:
        said = (
            tr(
                "%(ref)s is not acknowledged in time; paging the secondary %(who)s.",
                ref=ref,
                who=mention(who),
            )
            if who
            else tr("%(ref)s is not acknowledged in time; no secondary to page.", ref=ref)
        )
        return f":rotating_light: {said}"
    said = tr(
        "%(ref)s breached its %(milestone)s promise (due %(when)s). %(who)s",
        ref=ref,
        milestone=tr.milestone_verb(stage.milestone.value),
        when=tr.date_token(due),
        who=_who(tr, who),
    )
    return f":fire: {said}"
