"""Block Kit for the service plan: the task's direct message (Done, Skip), the survey, the
Skip and survey forms, the message once answered, and the overdue tasks in the App Home."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum

from bot.domain.service_plan import COMMENT_MAX, REASON_MAX, PlanTask, TaskState
from bot.slack.blocks import Block, View, escape, mrkdwn, plain, slack_date


class PlanAction(StrEnum):
    DONE = "plan_done"
    SKIP = "plan_skip"
    SURVEY = "plan_survey"


class PlanForm(StrEnum):
    SKIP = "plan_skip_form"
    SURVEY = "plan_survey_form"


TASK_NAMES = {
    PlanTask.CALL: "Call the customer (电话交流)",
    PlanTask.SURVEY: "Service-quality survey (客户服务质量调查表)",
    PlanTask.VISIT: "Visit the customer (技术人员定期客户访问)",
    PlanTask.INSPECTION: "Manager's review of the customer (经理定期客户巡查)",
    PlanTask.TRAINING: "On-site training (培训)",
}
RATINGS = {
    5: "5 – very satisfied 非常满意",
    4: "4 – satisfied 满意",
    3: "3 – fair 一般",
    2: "2 – dissatisfied 不满意",
    1: "1 – very dissatisfied 非常不满意",
}


def task_text(customer: str, task: PlanTask, nominal: date) -> str:
    return f"Service plan: {TASK_NAMES[task]} for {escape(customer)}, due {nominal.isoformat()}"


def task_request(
    task_id: int, customer: str, task: PlanTask, nominal: date, overdue_at: datetime
) -> tuple[str, list[Block]]:
    """The owner's (or the managers') direct message, with Done and Skip."""
    text = task_text(customer, task, nominal)
    return text, [
        {
            "type": "section",
            "text": mrkdwn(
                f":calendar: *{TASK_NAMES[task]}*\nCustomer: *{escape(customer)}*\n"
                f"Due {nominal.isoformat()}; overdue from {slack_date(overdue_at)}."
            ),
        },
        {
            "type": "actions",
            "block_id": f"plan:{task_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": PlanAction.DONE.value,
                    "text": plain("Done"),
                    "style": "primary",
                    "value": str(task_id),
                },
                {
                    "type": "button",
                    "action_id": PlanAction.SKIP.value,
                    "text": plain("Skip"),
                    "value": str(task_id),
                },
            ],
        },
    ]


def survey_request(task_id: int, customer: str) -> tuple[str, list[Block]]:
    """The contacts' direct message: the service-quality survey."""
    text = f"How is our service? The monthly service-quality survey for {escape(customer)}"
    return text, [
        {
            "type": "section",
            "text": mrkdwn(
                f":memo: *{TASK_NAMES[PlanTask.SURVEY]}*\n"
                f"How satisfied is *{escape(customer)}* with our after-sales service this month?"
            ),
        },
        {
            "type": "actions",
            "block_id": f"plan:{task_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": PlanAction.SURVEY.value,
                    "text": plain("Answer the survey"),
                    "style": "primary",
                    "value": str(task_id),
                }
            ],
        },
    ]


def _metadata(task_id: int, channel: str | None, ts: str | None) -> str:
    return json.dumps({"task": task_id, "channel": channel, "ts": ts})


def skip_modal(task_id: int, channel: str | None, ts: str | None) -> View:
    return {
        "type": "modal",
        "callback_id": PlanForm.SKIP.value,
        "private_metadata": _metadata(task_id, channel, ts),
        "title": plain("Skip this task"),
        "submit": plain("Skip"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why is it skipped?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": REASON_MAX,
                },
            }
        ],
    }


def survey_modal(task_id: int, customer: str, channel: str | None, ts: str | None) -> View:
    options = [{"text": plain(label), "value": str(n)} for n, label in RATINGS.items()]
    return {
        "type": "modal",
        "callback_id": PlanForm.SURVEY.value,
        "private_metadata": _metadata(task_id, channel, ts),
        "title": plain("Service survey"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "rating",
                "label": plain(f"How satisfied are you with our service to {customer}?"[:2000]),
                "element": {"type": "radio_buttons", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "comment",
                "optional": True,
                "label": plain("Comments or wishes"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": COMMENT_MAX,
                },
            },
        ],
    }


def task_closed(
    customer: str, task: PlanTask, nominal: date, state: TaskState, by: str, reason: str = ""
) -> tuple[str, list[Block]]:
    """The direct message once the task is done, skipped or answered: no buttons left."""
    if task is PlanTask.SURVEY:
        line = f":white_check_mark: Thank you, <@{by}>: your answer is recorded."
    elif state is TaskState.SKIPPED:
        line = f":fast_forward: Skipped by <@{by}>: {escape(reason)}"
    else:
        line = f":white_check_mark: Done by <@{by}>."
    text = f"{task_text(customer, task, nominal)}\n{line}"
    return text, [{"type": "section", "text": mrkdwn(text)}]


def overdue_lines(items: list[tuple[str, PlanTask, date, datetime]]) -> list[Block]:
    """The App Home's section of overdue plan tasks (customer, task, due, overdue since)."""
    if not items:
        return []
    lines = [
        f"• *{escape(customer)}*: {TASK_NAMES[task]}, due {nominal.isoformat()}, "
        f"overdue since {slack_date(since)}"
        for customer, task, nominal, since in items[:15]
    ]
    if len(items) > 15:
        lines.append(f"…and {len(items) - 15} more")
    return [
        {
            "type": "section",
            "text": mrkdwn(f"*Service plan: overdue* ({len(items)})\n" + "\n".join(lines)),
        }
    ]
