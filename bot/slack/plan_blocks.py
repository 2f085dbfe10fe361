"""Block Kit for the service plan: the task's direct message (Done, Skip), the survey, the
Skip and survey forms, the message once answered, and the overdue tasks in the App Home.
What the bot sends is in the workspace's language, a form in its reader's (``tr``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from bot.domain.service_plan import COMMENT_MAX, REASON_MAX, PlanTask, TaskState
from bot.slack.blocks import Block, View, choice_input, escape, modal, mrkdwn, plain, text_input
from bot.slack.i18n import N_, Translator, mention


class PlanAction(StrEnum):
    DONE = "plan_done"
    SKIP = "plan_skip"
    SURVEY = "plan_survey"


class PlanForm(StrEnum):
    SKIP = "plan_skip_form"
    SURVEY = "plan_survey_form"


# The tasks by their names in the service-plan standard (Chinese in the English too).
TASK_NAMES = {
    PlanTask.CALL: N_("Call the customer (电话交流)"),
    PlanTask.SURVEY: N_("Service-quality survey (客户服务质量调查表)"),
    PlanTask.VISIT: N_("Visit the customer (技术人员定期客户访问)"),
    PlanTask.INSPECTION: N_("Manager's review of the customer (经理定期客户巡查)"),
    PlanTask.TRAINING: N_("On-site training (培训)"),
}
RATINGS = {
    5: N_("5 – very satisfied 非常满意"),
    4: N_("4 – satisfied 满意"),
    3: N_("3 – fair 一般"),
    2: N_("2 – dissatisfied 不满意"),
    1: N_("1 – very dissatisfied 非常不满意"),
}


def task_name(tr: Translator, task: PlanTask) -> str:
    return tr(TASK_NAMES[task])


def task_text(tr: Translator, customer: str, task: PlanTask, nominal: date) -> str:
    return tr(
        "Service plan: %(task)s for %(customer)s, due %(due)s",
        task=task_name(tr, task),
        customer=escape(customer),
        due=nominal.isoformat(),
    )


def task_request(
    tr: Translator,
    task_id: int,
    customer: str,
    task: PlanTask,
    nominal: date,
    overdue_at: datetime,
) -> tuple[str, list[Block]]:
    """The owner's (or the managers') direct message, with Done and Skip."""
    text = task_text(tr, customer, task, nominal)
    said = tr(
        "Customer: *%(customer)s*\nDue %(due)s; overdue from %(overdue)s.",
        customer=escape(customer),
        due=nominal.isoformat(),
        overdue=tr.date_token(overdue_at),
    )
    return text, [
        {
            "type": "section",
            "text": mrkdwn(f":calendar: *{task_name(tr, task)}*\n{said}"),
        },
        {
            "type": "actions",
            "block_id": f"plan:{task_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": PlanAction.DONE.value,
                    "text": plain(tr("Done")),
                    "style": "primary",
                    "value": str(task_id),
                },
                {
                    "type": "button",
                    "action_id": PlanAction.SKIP.value,
                    "text": plain(tr("Skip")),
                    "value": str(task_id),
                },
            ],
        },
    ]


def survey_request(tr: Translator, task_id: int, customer: str) -> tuple[str, list[Block]]:
    """The contacts' direct message: the service-quality survey."""
    text = tr(
        "How is our service? The monthly service-quality survey for %(customer)s",
        customer=escape(customer),
    )
    asked = tr(
        "How satisfied is *%(customer)s* with our after-sales service this month?",
        customer=escape(customer),
    )
    return text, [
        {
            "type": "section",
            "text": mrkdwn(f":memo: *{task_name(tr, PlanTask.SURVEY)}*\n{asked}"),
        },
        {
            "type": "actions",
            "block_id": f"plan:{task_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": PlanAction.SURVEY.value,
                    "text": plain(tr("Answer the survey")),
                    "style": "primary",
                    "value": str(task_id),
                }
            ],
        },
    ]


def _metadata(task_id: int, channel: str | None, ts: str | None) -> dict[str, object]:
    return {"task": task_id, "channel": channel, "ts": ts}


def skip_modal(tr: Translator, task_id: int, channel: str | None, ts: str | None) -> View:
    reason = text_input("reason", tr("Why is it skipped?"), multiline=True, max_length=REASON_MAX)
    return modal(
        PlanForm.SKIP.value,
        tr("Skip this task"),
        [reason],
        submit=tr("Skip"),
        close=tr("Cancel"),
        metadata=_metadata(task_id, channel, ts),
    )


def survey_modal(
    tr: Translator, task_id: int, customer: str, channel: str | None, ts: str | None
) -> View:
    ratings = [(tr(label), str(n)) for n, label in RATINGS.items()]
    asked = tr("How satisfied are you with our service to %(customer)s?", customer=customer)
    comment = text_input(
        "comment",
        tr("Comments or wishes"),
        multiline=True,
        max_length=COMMENT_MAX,
        optional=True,
    )
    return modal(
        PlanForm.SURVEY.value,
        tr("Service survey"),
        [choice_input("rating", asked, "radio_buttons", ratings), comment],
        submit=tr("Send"),
        close=tr("Cancel"),
        metadata=_metadata(task_id, channel, ts),
    )


def task_closed(
    tr: Translator,
    customer: str,
    task: PlanTask,
    nominal: date,
    state: TaskState,
    by: str,
    reason: str = "",
) -> tuple[str, list[Block]]:
    """The direct message once the task is done, skipped or answered: no buttons left."""
    if task is PlanTask.SURVEY:
        line = ":white_check_mark: " + tr(
            "Thank you, %(who)s: your answer is recorded.", who=mention(by)
        )
    elif state is TaskState.SKIPPED:
        line = ":fast_forward: " + tr(
            "Skipped by %(who)s: %(reason)s", who=mention(by), reason=escape(reason)
        )
    else:
        line = ":white_check_mark: " + tr("Done by %(who)s.", who=mention(by))
    text = f"{task_text(tr, customer, task, nominal)}\n{line}"
    return text, [{"type": "section", "text": mrkdwn(text)}]


def overdue_lines(tr: Translator, items: list[tuple[str, PlanTask, date, datetime]]) -> list[Block]:
    """The App Home's section of overdue plan tasks (customer, task, due, overdue since)."""
    if not items:
        return []
    lines = [
        "• "
        + tr(
            "*%(customer)s*: %(task)s, due %(due)s, overdue since %(since)s",
            customer=escape(customer),
            task=task_name(tr, task),
            due=nominal.isoformat(),
            since=tr.date_token(since),
        )
        for customer, task, nominal, since in items[:15]
    ]
    if len(items) > 15:
        more = len(items) - 15
        lines.append(tr.plural("…and %(n)d more task", "…and %(n)d more tasks", more))
    heading = tr("*Service plan: overdue* (%(n)s)", n=len(items))
    return [{"type": "section", "text": mrkdwn(heading + "\n" + "\n".join(lines))}]
