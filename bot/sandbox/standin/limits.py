"""The limits Slack enforces on messages and views, answered with Slack's error codes."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.standin.model import JsonDict, StandInError

MAX_TEXT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TITLE = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3_000
MAX_VIEW_STACK = 3
MAX_RESPONSE_URL_USES = 5  # a response_url answers five times within 30 minutes


class ApiError(StandInError):
    """A Web API call fails with Slack's ``{"ok": false, "error": code}``."""

    def __init__(self, code: str, *messages: str) -> None:
        super().__init__(code)
        self.code = code
        self.messages = list(messages)

    def as_response(self) -> JsonDict:
        out: JsonDict = {"ok": False, "error": self.code}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


def json_param(value: Any, *, error: str) -> Any:
    """A JSON argument that arrives as a string (form body) or already decoded (JSON body)."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(error) from exc
    return value


def message_blocks(value: Any) -> list[JsonDict] | None:
    blocks = json_param(value, error="invalid_blocks_format")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
    ):
        raise ApiError("invalid_blocks", "[ERROR] each block must be an object with a type")
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        raise ApiError(
            "invalid_blocks",
            f"[ERROR] no more than {MAX_MESSAGE_BLOCKS} items allowed [json-pointer:/blocks]",
        )
    return blocks


def message_attachments(value: Any) -> list[JsonDict] | None:
    attachments = json_param(value, error="invalid_attachments")
    if attachments is None:
        return None
    if not isinstance(attachments, list):
        raise ApiError("invalid_attachments")
    return attachments


def message_content(
    params: JsonDict, *, require: bool = True
) -> tuple[str, list[JsonDict] | None, list[JsonDict] | None]:
    """Text, blocks and attachments of a message, checked as ``chat.postMessage`` checks them."""
    text = params.get("text")
    text = "" if text is None else str(text)
    blocks = message_blocks(params.get("blocks"))
    attachments = message_attachments(params.get("attachments"))
    if require and not text and not blocks and not attachments:
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks, attachments


def _plain_text(obj: Any) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return None


def check_view(value: Any, *, kind: str) -> JsonDict:
    """A view argument, decoded and checked; ``kind`` is ``modal`` or ``home``."""
    view = json_param(value, error="invalid_arguments")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", "[ERROR] missing required field: view")
    if view.get("type") != kind:
        raise ApiError("invalid_arguments", f"[ERROR] must be '{kind}' [json-pointer:/view/type]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
    ):
        raise ApiError("invalid_arguments", "[ERROR] missing required field: blocks")
    if len(blocks) > MAX_VIEW_BLOCKS:
        raise ApiError(
            "invalid_arguments",
            f"[ERROR] no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]",
        )
    if len(str(view.get("callback_id") or "")) > MAX_CALLBACK_ID:
        raise ApiError("invalid_arguments", "[ERROR] must be less than 256 characters")
    if len(str(view.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
        raise ApiError("invalid_arguments", "[ERROR] must be less than 3001 characters")
    if kind == "modal":
        _check_modal_texts(view, blocks)
    return view


def _check_modal_texts(view: JsonDict, blocks: list[JsonDict]) -> None:
    title = _plain_text(view.get("title"))
    if title is None:
        raise ApiError("invalid_arguments", "[ERROR] missing required field: title")
    for key in ("title", "submit", "close"):
        text = _plain_text(view.get(key))
        if text is not None and len(text) > MAX_TITLE:
            raise ApiError(
                "invalid_arguments",
                f"[ERROR] must be less than {MAX_TITLE + 1} characters"
                f" [json-pointer:/view/{key}/text]",
            )
    if any(b.get("type") == "input" for b in blocks) and view.get("submit") is None:
        raise ApiError(
            "invalid_arguments", "[ERROR] submit is required when an input block is present"
        )
