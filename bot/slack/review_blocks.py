"""Block Kit for the month's review (SPEC §6): the figures as a message, and a short text
for notifications and the comment on the uploaded chart, in the language of ``tr`` (the
reader's for `/ticket report`, the workspace's for the review posted each month)."""

from __future__ import annotations

from bot.domain.review import CLASSES, Group, Rated, Review, Spread
from bot.slack.blocks import Block, escaped, mrkdwn, plain
from bot.slack.i18n import Translator

MAX_CUSTOMERS = 20  # lines in the message; the CSV and the chart hold them all
# What the lines of customers may fill of a section's 3,000 characters, leaving room for
# the line that says how many more the CSV has.
SECTION_ROOM = 2900
NAME_ROOM = 200  # of a customer's name in its line (the CSV has it whole)


def span(tr: Translator, seconds: float | None) -> str:
    """A length of time as people read it: ``40 min``, ``2 h 5 min``, ``3 d 4 h``."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 1:
        return tr("<1 min")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    d, h, m = (tr("%(n)s d", n=days), tr("%(n)s h", n=hours), tr("%(n)s min", n=mins))
    if days:
        return f"{d} {h}" if hours else d
    if hours:
        return f"{h} {m}" if mins else h
    return m


def _share(met: int, due: int) -> str:
    return f"{met * 100 // due}%" if due else "—"


def _rated(tr: Translator, rated: Rated) -> str:
    average = rated.average
    if average is None:
        return tr("none")
    return tr("%(average)s/5 from %(n)s", average=f"{average:.1f}", n=rated.count)


def _spread(tr: Translator, label: str, found: Spread) -> str:
    return "• " + tr(
        "%(label)s: median %(median)s, 90%% within %(p90)s (%(n)s)",
        label=label,
        median=span(tr, found.median),
        p90=span(tr, found.p90),
        n=found.count,
    )


def _customer_line(tr: Translator, name: str, group: Group) -> str:
    kept = group.met
    plan = group.plan
    parts = [
        tr.plural("%(n)d ticket", "%(n)d tickets", group.tickets),
        tr("promises %(met)s/%(due)s", met=kept.met, due=kept.due),
        tr("breaches %(n)s", n=group.breaches),
        tr("sign-off %(rated)s", rated=_rated(tr, group.signoffs)),
        tr("survey %(rated)s", rated=_rated(tr, group.surveys)),
        tr("plan %(done)s/%(due)s done", done=plan.done, due=plan.due)
        + (tr(", %(n)s overdue", n=plan.overdue) if plan.overdue else ""),
    ]
    who = escaped(name, NAME_ROOM) if name else tr("No customer")
    return "• " + tr.labelled(f"*{who}*", " · ".join(parts))


def review_text(tr: Translator, review: Review) -> str:
    """One line for notifications and the comment on the chart."""
    total = review.total
    kept = total.met
    return tr(
        "Support report %(month)s: %(tickets)s tickets, promises kept %(met)s/%(due)s "
        "(%(share)s), breaches %(breaches)s, service plan %(done)s/%(planned)s done",
        month=str(review.month),
        tickets=total.tickets,
        met=kept.met,
        due=kept.due,
        share=_share(kept.met, kept.due),
        breaches=total.breaches,
        done=total.plan.done,
        planned=total.plan.due,
    )


def review_blocks(tr: Translator, review: Review) -> list[Block]:
    total = review.total
    classes = " · ".join(f"{c}: {review.by_class[c].tickets}" for c in CLASSES)
    kept_lines = [
        "• "
        + tr(
            "%(milestone)s: %(met)s/%(due)s in time (%(share)s)",
            milestone=tr.milestone(name),
            met=k.met,
            due=k.due,
            share=_share(k.met, k.due),
        )
        for name, k in total.kept.items()
    ]
    breaches = " · ".join(f"{c} {review.by_class[c].breaches}" for c in CLASSES)
    plan = total.plan
    blocks: list[Block] = [
        {"type": "header", "text": plain(tr("Support report %(month)s", month=str(review.month)))},
        {
            "type": "section",
            "text": mrkdwn(tr("*Reports by class* (%(n)s)", n=total.tickets) + f"\n{classes}"),
        },
        {"type": "section", "text": mrkdwn(tr("*Promises kept*") + "\n" + "\n".join(kept_lines))},
        {
            "type": "section",
            "text": mrkdwn(
                tr("*Time taken*")
                + "\n"
                + _spread(tr, tr("To respond"), review.respond)
                + "\n"
                + _spread(tr, tr("To resolve"), review.resolve)
            ),
        },
        {
            "type": "section",
            "text": mrkdwn(
                tr("*Breaches*: %(n)s (%(by_class)s)", n=total.breaches, by_class=breaches)
            ),
        },
        {
            "type": "section",
            "text": mrkdwn(
                tr("*Satisfaction*")
                + "\n• "
                + tr("Sign-offs: %(rated)s", rated=_rated(tr, total.signoffs))
                + "\n• "
                + tr("Surveys: %(rated)s", rated=_rated(tr, total.surveys))
            ),
        },
        {
            "type": "section",
            "text": mrkdwn(
                tr(
                    "*Service plan*: %(done)s/%(due)s tasks done "
                    "(%(skipped)s skipped, %(overdue)s overdue)",
                    done=plan.done,
                    due=plan.due,
                    skipped=plan.skipped,
                    overdue=plan.overdue,
                )
                + "\n"
                + tr(
                    "*Answered at once by the knowledge base*: %(n)s",
                    n=review.answered_at_once,
                )
                + "\n"
                + tr("*Closed*: %(n)s", n=total.closed)
            ),
        },
    ]
    customers = list(review.by_customer.items())
    if customers:
        text = tr("*By customer*")
        shown = 0
        for name, group in customers[:MAX_CUSTOMERS]:
            line = _customer_line(tr, name, group)
            if len(text) + len(line) + 1 > SECTION_ROOM:  # long names: whole lines only
                break
            text += "\n" + line
            shown += 1
        if more := len(customers) - shown:
            text += "\n" + tr.plural(
                "…and %(n)d more (see the CSV)", "…and %(n)d more (see the CSV)", more
            )
        blocks.append({"type": "section", "text": mrkdwn(text)})
    return blocks
