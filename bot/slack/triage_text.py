"""The words of the triage (SPEC §4): the questions and what each class means, in the
words of JZB10-2008 §4.3 (the domain knows the questions by their keys only)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.triage import Question
from bot.sla.policy import Severity
from bot.slack.i18n import N_, Translator

QUESTION_TEXT: Mapping[str, str] = {
    "stopped": N_(
        "Has the whole system stopped, is business processing badly wrong, "
        "or is the network link down?"
    ),
    "affected": N_("Is normal operation affected, though work can go on?"),
    "future": N_("Does it need fixing for future use, though nothing is affected now?"),
}

MEANING_TEXT: Mapping[Severity, str] = {
    Severity.A: N_("Critical: the system is down, processing is badly wrong, or the link is down"),
    Severity.B: N_("Major: normal operation is affected, though work can go on"),
    Severity.C: N_("Minor: needs fixing for future use, nothing is affected now"),
    Severity.D: N_("Suggestion: an improvement to consider"),
}


def question_text(tr: Translator, question: Question) -> str:
    return tr(QUESTION_TEXT[question.key])


def meaning(tr: Translator, severity: Severity) -> str:
    return tr(MEANING_TEXT[severity])
