"""The card and the report confirmation mark only the deadlines that are provisional."""

from __future__ import annotations

from datetime import timedelta

from bot.slack import blocks, report_form
from tests.unit.test_blocks import EN, NOW, ticket

DEADLINES = {
    "respond": NOW + timedelta(hours=1),
    "diagnose": NOW + timedelta(hours=2),
    "plan": NOW + timedelta(days=3),
}


def deadline_texts(body: list[blocks.Block]) -> dict[str, str]:
    [block] = [b for b in body if b.get("block_id") == "deadlines"]
    texts = [str(field["text"]) for field in block["fields"]]
    return dict(zip(DEADLINES, texts, strict=True))


def test_only_the_provisional_deadline_is_marked_on_the_card() -> None:
    texts = deadline_texts(blocks.ticket_message(ticket(), DEADLINES, NOW, {"plan"}))
    assert texts["plan"].startswith(f"*Plan by* {blocks.PROVISIONAL_MARK}\n")
    assert blocks.PROVISIONAL_MARK not in texts["respond"] + texts["diagnose"]


def test_nothing_is_marked_without_provisional_deadlines() -> None:
    texts = deadline_texts(blocks.ticket_message(ticket(), DEADLINES, NOW))
    assert not any(blocks.PROVISIONAL_MARK in text for text in texts.values())


def test_the_report_confirmation_marks_them_too() -> None:
    view = report_form.report_confirmation(EN, ticket(), DEADLINES, NOW, {"diagnose", "plan"})
    texts = deadline_texts(view["blocks"])
    assert [blocks.PROVISIONAL_MARK in text for text in texts.values()] == [False, True, True]
