"""The triage questions of SPEC §4: asked one at a time until the class is clear."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.sla.policy import Severity


@dataclass(frozen=True)
class Question:
    """A triage question by its key; its words (and what each class means) are the Slack
    layer's, in the reader's language (bot/slack/triage_text.py)."""

    key: str
    yes_means: Severity


QUESTIONS: tuple[Question, ...] = (
    Question(key="stopped", yes_means=Severity.A),
    Question(key="affected", yes_means=Severity.B),
    Question(key="future", yes_means=Severity.C),
)


def classify(answers: Sequence[bool]) -> Severity | None:
    """The class the answers so far make clear, or None while a question is still open."""
    for question, answer in zip(QUESTIONS, answers, strict=False):
        if answer:
            return question.yes_means
    if len(answers) >= len(QUESTIONS):
        return Severity.D
    return None


def next_question(answers: Sequence[bool]) -> Question | None:
    """The next question to ask, or None once the class is clear."""
    if classify(answers) is not None:
        return None
    return QUESTIONS[len(answers)]
