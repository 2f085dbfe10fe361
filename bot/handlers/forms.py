"""Reading what a user entered in a modal (view.state.values) into plain values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.triage import QUESTIONS
from bot.slack.ids import Action
from bot.slack.report_form import question_block_id


@dataclass(frozen=True)
class ReportForm:
    summary: str
    details: str
    system: str
    answers: tuple[bool, ...]
    metadata: dict[str, Any]


def read_report_form(view: Mapping[str, Any]) -> ReportForm:
    values: Mapping[str, Any] = view.get("state", {}).get("values", {})
    answers: list[bool] = []
    for question in QUESTIONS:
        selected = (
            values.get(question_block_id(question), {})
            .get(Action.TRIAGE, {})
            .get("selected_option")
        )
        if not selected:
            break
        answers.append(selected.get("value") == "yes")
        if answers[-1]:
            break
    return ReportForm(
        summary=_text(values, "summary"),
        details=_text(values, "details"),
        system=_text(values, "system"),
        answers=tuple(answers),
        metadata=_metadata(view.get("private_metadata")),
    )


def _text(values: Mapping[str, Any], block_id: str) -> str:
    value = values.get(block_id, {}).get("value", {}).get("value")
    return value if isinstance(value, str) else ""


def _metadata(raw: object) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
