import pytest

from bot.domain.triage import QUESTIONS, classify, next_question
from bot.sla.policy import Severity


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((), None),
        ((True,), Severity.A),
        ((False,), None),
        ((False, True), Severity.B),
        ((False, False), None),
        ((False, False, True), Severity.C),
        ((False, False, False), Severity.D),
    ],
)
def test_the_class_is_clear_as_soon_as_a_question_says_yes(
    answers: tuple[bool, ...], expected: Severity | None
) -> None:
    assert classify(answers) == expected


def test_questions_are_asked_one_at_a_time_in_order() -> None:
    assert next_question(()) == QUESTIONS[0]
    assert next_question((False,)) == QUESTIONS[1]
    assert next_question((False, False)) == QUESTIONS[2]
    assert next_question((True,)) is None
    assert next_question((False, False, False)) is None
