"""The triage questions of SPEC §4: asked one at a time until the class is clear."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.sla.policy import Severity


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    yes_means: Severity


QUESTIONS: tuple[Question, ...] = (
    Question(
        key="stopped",
        text=(
            "Has the whole system stopped, is business processing badly wrong, "
            "or is the network link down?"
        ),
        yes_means=Severity.A,
    ),
    Question(
        key="affected",
        text="Is normal operation affected, though work can go on?",
        yes_means=Severity.B,
    ),
    Question(
        key="future",
        text="Does it need fixing for future use, though nothing is affected now?",
        yes_means=Severity.C,
    ),
)

MEANING: dict[Severity, str] = {
    Severity.A: "Critical: the system is down, processing is badly wrong, or the link is down",
    Severity.B: "Major: normal operation is affected, though work can go on",
    Severity.C: "Minor: needs fixing for future use, nothing is affected now",
    Severity.D: "Suggestion: an improvement to consider",
}


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
