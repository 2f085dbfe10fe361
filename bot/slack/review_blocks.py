"""Block Kit for the month's review (SPEC §6): the figures as a message, and a short text
for notifications and the comment on the uploaded chart."""

from __future__ import annotations

from bot.domain.review import CLASSES, Group, Rated, Review, Spread
from bot.slack.blocks import MILESTONE_LABELS, Block, escape, mrkdwn, plain

MAX_CUSTOMERS = 20  # lines in the message; the CSV and the chart hold them all


def span(seconds: float | None) -> str:
    """A length of time as people read it: ``40 min``, ``2 h 5 min``, ``3 d 4 h``."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 1:
        return "<1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _share(met: int, due: int) -> str:
    return f"{met * 100 // due}%" if due else "—"


def _rated(rated: Rated) -> str:
    average = rated.average
    return "none" if average is None else f"{average:.1f}/5 from {rated.count}"


def _spread(name: str, found: Spread) -> str:
    return f"• {name}: median {span(found.median)}, 90% within {span(found.p90)} ({found.count})"


def _customer_line(name: str, group: Group) -> str:
    kept = group.met
    plan = group.plan
    parts = [
        f"{group.tickets} tickets",
        f"promises {kept.met}/{kept.due}",
        f"breaches {group.breaches}",
        f"sign-off {_rated(group.signoffs)}",
        f"survey {_rated(group.surveys)}",
        f"plan {plan.done}/{plan.due} done" + (f", {plan.overdue} overdue" if plan.overdue else ""),
    ]
    return f"• *{escape(name) if name else 'No customer'}*: " + " · ".join(parts)


def review_text(review: Review) -> str:
    """One line for notifications and the comment on the chart."""
    total = review.total
    kept = total.met
    return (
        f"Support report {review.month}: {total.tickets} tickets, promises kept "
        f"{kept.met}/{kept.due} ({_share(kept.met, kept.due)}), breaches {total.breaches}, "
        f"service plan {total.plan.done}/{total.plan.due} done"
    )


def review_blocks(review: Review) -> list[Block]:
    total = review.total
    classes = " · ".join(f"{c}: {review.by_class[c].tickets}" for c in CLASSES)
    kept_lines = [
        f"• {MILESTONE_LABELS[name]}: {k.met}/{k.due} in time ({_share(k.met, k.due)})"
        for name, k in total.kept.items()
    ]
    breaches = " · ".join(f"{c} {review.by_class[c].breaches}" for c in CLASSES)
    plan = total.plan
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Support report {review.month}")},
        {
            "type": "section",
            "text": mrkdwn(f"*Reports by class* ({total.tickets})\n{classes}"),
        },
        {"type": "section", "text": mrkdwn("*Promises kept*\n" + "\n".join(kept_lines))},
        {
            "type": "section",
            "text": mrkdwn(
                "*Time taken*\n"
                + _spread("To respond", review.respond)
                + "\n"
                + _spread("To resolve", review.resolve)
            ),
        },
        {
            "type": "section",
            "text": mrkdwn(f"*Breaches*: {total.breaches} ({breaches})"),
        },
        {
            "type": "section",
            "text": mrkdwn(
                f"*Satisfaction*\n• Sign-offs: {_rated(total.signoffs)}\n"
                f"• Surveys: {_rated(total.surveys)}"
            ),
        },
        {
            "type": "section",
            "text": mrkdwn(
                f"*Service plan*: {plan.done}/{plan.due} tasks done "
                f"({plan.skipped} skipped, {plan.overdue} overdue)\n"
                f"*Answered at once by the knowledge base*: {review.answered_at_once}\n"
                f"*Closed*: {total.closed}"
            ),
        },
    ]
    customers = list(review.by_customer.items())
    if customers:
        lines = [_customer_line(name, group) for name, group in customers[:MAX_CUSTOMERS]]
        if len(customers) > MAX_CUSTOMERS:
            lines.append(f"…and {len(customers) - MAX_CUSTOMERS} more (see the CSV)")
        text = "*By customer*\n" + "\n".join(lines)
        blocks.append({"type": "section", "text": mrkdwn(text[:2990])})
    return blocks
