"""Block Kit elements as a user works them: what a click or an input puts into a payload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.sandbox.standin.model import JsonDict, StandInError

# What a test gives as a user's input: text or one option value, several values, or nothing.
InputValue = str | Sequence[str] | None

_SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_OPTION = {"checkboxes", "multi_static_select", "multi_external_select"}
_TEXT = {"plain_text_input", "number_input", "email_text_input", "url_text_input"}
_SCALAR = {
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
}
_MULTI_SCALAR = {
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


@dataclass(frozen=True)
class Element:
    """An interactive element found in a surface, with the block that holds it."""

    block_id: str
    block_type: str
    element: JsonDict

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    @property
    def type(self) -> str:
        return str(self.element.get("type", ""))


def elements(blocks: Sequence[JsonDict]) -> Iterator[Element]:
    """Every interactive element of the blocks, in order."""
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        kind = str(block.get("type", ""))
        found: list[Any] = []
        if kind == "actions":
            found = list(block.get("elements") or [])
        elif kind in ("section", "input"):
            found = [block.get("accessory"), block.get("element")]
        for element in found:
            if isinstance(element, dict) and element.get("type"):
                yield Element(block_id=block_id, block_type=kind, element=element)


def find_element(
    blocks: Sequence[JsonDict], action_id: str, block_id: str | None = None
) -> Element:
    for found in elements(blocks):
        if found.action_id == action_id and (block_id is None or found.block_id == block_id):
            return found
    where = f" in block {block_id!r}" if block_id else ""
    raise StandInError(f"no element with action_id {action_id!r}{where}")


def _options(element: JsonDict) -> list[JsonDict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return [o for o in options if isinstance(o, dict)]


def _option(element: JsonDict, value: str) -> JsonDict:
    for option in _options(element):
        if option.get("value") == value:
            return option
    if element.get("type", "").startswith(("external", "multi_external")):
        return {"text": {"type": "plain_text", "text": value}, "value": value}
    raise StandInError(f"element {element.get('action_id')!r} has no option {value!r}")


def _as_list(value: InputValue) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _as_one(value: InputValue) -> str | None:
    if value is None or isinstance(value, str):
        return value
    items = list(value)
    return items[0] if items else None


def chosen(element: JsonDict, value: InputValue) -> JsonDict:
    """The element's state after the user gave ``value`` (Slack's ``state.values`` entry)."""
    kind = str(element.get("type", ""))
    out: JsonDict = {"type": kind}
    if kind in _TEXT:
        out["value"] = _as_one(value)
    elif kind in _SINGLE_OPTION:
        one = _as_one(value)
        out["selected_option"] = None if one is None else _option(element, one)
    elif kind in _MULTI_OPTION:
        out["selected_options"] = [_option(element, v) for v in _as_list(value)]
    elif kind in _SCALAR:
        out[_SCALAR[kind][0]] = _as_one(value)
    elif kind in _MULTI_SCALAR:
        out[_MULTI_SCALAR[kind][0]] = _as_list(value)
    elif kind == "button":
        pass
    else:
        out["value"] = _as_one(value)
    return out


def initial(element: JsonDict) -> JsonDict:
    """The element's state before the user touches it: its initial value, or empty."""
    kind = str(element.get("type", ""))
    if kind in _TEXT:
        return {"type": kind, "value": element.get("initial_value")}
    if kind in _SINGLE_OPTION:
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in _MULTI_OPTION:
        return {"type": kind, "selected_options": list(element.get("initial_options") or [])}
    if kind in _SCALAR:
        return {"type": kind, _SCALAR[kind][0]: element.get(_SCALAR[kind][1])}
    if kind in _MULTI_SCALAR:
        key, initial_key = _MULTI_SCALAR[kind]
        return {"type": kind, key: list(element.get(initial_key) or [])}
    return {"type": kind, "value": element.get("initial_value")}


def action(found: Element, value: InputValue, action_ts: str) -> JsonDict:
    """One entry of a ``block_actions`` payload's ``actions`` list."""
    element = found.element
    out: JsonDict = {"action_id": found.action_id, "block_id": found.block_id}
    if found.type == "button":
        out["type"] = "button"
        out["text"] = element.get("text")
        if element.get("value") is not None:
            out["value"] = element["value"]
        if element.get("style"):
            out["style"] = element["style"]
    else:
        out.update(chosen(element, value))
    out["action_ts"] = action_ts
    return out


def state_values(
    blocks: Sequence[JsonDict],
    previous: Mapping[str, Mapping[str, JsonDict]],
    given: Mapping[str, InputValue],
) -> dict[str, dict[str, JsonDict]]:
    """``view.state.values`` for input blocks, from earlier state plus the user's new input.

    Keys of ``given`` name an element by ``action_id``, ``block_id`` or ``block_id.action_id``.
    """
    out: dict[str, dict[str, JsonDict]] = {}
    unused = dict(given)
    for found in elements(blocks):
        if found.block_type != "input" and found.type not in _TEXT:
            continue
        key = next(
            (
                k
                for k in (f"{found.block_id}.{found.action_id}", found.action_id, found.block_id)
                if k in unused
            ),
            None,
        )
        before = previous.get(found.block_id, {}).get(found.action_id)
        if key is not None:
            entry = chosen(found.element, unused.pop(key))
        elif before is not None:
            entry = dict(before)
        else:
            entry = initial(found.element)
        out.setdefault(found.block_id, {})[found.action_id] = entry
    if unused:
        raise StandInError(f"no input named {sorted(unused)!r} in the view")
    return out


def with_ids(blocks: Sequence[JsonDict]) -> list[JsonDict]:
    """Copies of the blocks with the ``block_id`` and ``action_id`` Slack fills in when missing."""
    out: list[JsonDict] = []
    for index, block in enumerate(blocks):
        copy = dict(block)
        copy.setdefault("block_id", _generated_id("b", index, block))
        for key in ("accessory", "element"):
            if isinstance(copy.get(key), dict):
                copy[key] = _element_with_id(copy[key], 0, copy["block_id"])
        if isinstance(copy.get("elements"), list) and copy.get("type") == "actions":
            copy["elements"] = [
                _element_with_id(e, i, copy["block_id"]) if isinstance(e, dict) else e
                for i, e in enumerate(copy["elements"])
            ]
        out.append(copy)
    return out


def _element_with_id(element: JsonDict, index: int, block_id: str) -> JsonDict:
    copy = dict(element)
    if copy.get("type") not in (None, "image", "plain_text", "mrkdwn"):
        copy.setdefault("action_id", _generated_id(f"{block_id}-a", index, element))
    return copy


def _generated_id(prefix: str, index: int, obj: Mapping[str, Any]) -> str:
    """Stable across calls for the same content, so an updated view keeps its input state."""
    digest = hashlib.sha1(
        repr(sorted(obj.items(), key=str)).encode(), usedforsecurity=False
    ).hexdigest()[:5]
    return f"{prefix}{index}{digest}"
