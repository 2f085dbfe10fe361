"""Modals (a stack of up to three per user) and App Home views, kept as Slack keeps them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from bot.sandbox.standin.blocks import InputValue, state_values, with_ids
from bot.sandbox.standin.limits import MAX_VIEW_STACK, ApiError
from bot.sandbox.standin.model import (
    Change,
    ChangeKind,
    JsonDict,
    StandInError,
    StoredView,
)
from bot.sandbox.standin.state import Workspace


class ViewStore:
    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self.views: dict[str, StoredView] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}

    def _hash(self) -> str:
        return f"{int(self._ws.now())}.{secrets.token_hex(4)}"

    def _new(self, user: str, view: JsonDict) -> StoredView:
        external_id = view.get("external_id") or None
        if external_id is not None and self.by_external_id(str(external_id)) is not None:
            raise ApiError("duplicate_external_id")
        stored = StoredView(
            id=self._ws.next_id("V"),
            user=user,
            type=str(view["type"]),
            view=_normalised(view),
            hash=self._hash(),
            team_id=self._ws.team_id,
            app_id=self._ws.app_id,
            bot_id=self._ws.bot_id,
            external_id=None if external_id is None else str(external_id),
        )
        stored.state_values = state_values(stored.blocks, {}, {})
        self.views[stored.id] = stored
        return stored

    # ---- queries -----------------------------------------------------------------------

    def get(self, view_id: str) -> StoredView:
        try:
            return self.views[view_id]
        except KeyError:
            raise StandInError(f"no view {view_id!r}") from None

    def by_external_id(self, external_id: str) -> StoredView | None:
        for view in self.views.values():
            if view.external_id == external_id and view.status != "closed":
                return view
        return None

    def stack(self, user: str) -> list[StoredView]:
        """The user's open modals, bottom first; the last one is the one they see."""
        return [self.views[v] for v in self._stacks.get(user, [])]

    def top(self, user: str) -> StoredView | None:
        stack = self._stacks.get(user)
        return self.views[stack[-1]] if stack else None

    def home(self, user: str) -> StoredView | None:
        view_id = self._homes.get(user)
        return None if view_id is None else self.views[view_id]

    # ---- modals ------------------------------------------------------------------------

    def open(self, user: str, view: JsonDict) -> StoredView:
        self.clear(user)
        stored = self._new(user, view)
        stored.root_view_id = stored.id
        self._stacks[user] = [stored.id]
        self._ws.emit(Change("view_opened", user=user, view_id=stored.id))
        return stored

    def push(self, user: str, view: JsonDict) -> StoredView:
        stack = self._stacks.get(user) or []
        if not stack:
            return self.open(user, view)
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        below = self.views[stack[-1]]
        stored = self._new(user, view)
        stored.root_view_id = below.root_view_id or below.id
        stored.previous_view_id = below.id
        stack.append(stored.id)
        self._ws.emit(Change("view_opened", user=user, view_id=stored.id))
        return stored

    def update(self, stored: StoredView, view: JsonDict, expected_hash: str | None) -> StoredView:
        if stored.status == "closed":
            raise ApiError("not_found")
        if expected_hash and expected_hash != stored.hash:
            raise ApiError("hash_conflict")
        if view.get("type") != stored.type:
            raise ApiError("invalid_arguments", "[ERROR] a view cannot change its type")
        stored.history.append(stored.view)
        stored.view = _normalised(view)
        stored.hash = self._hash()
        stored.errors = {}
        stored.state_values = state_values(stored.blocks, stored.state_values, {})
        kind: ChangeKind = "home_published" if stored.type == "home" else "view_updated"
        self._ws.emit(Change(kind, user=stored.user, view_id=stored.id))
        return stored

    def close_top(self, user: str) -> StoredView | None:
        stack = self._stacks.get(user) or []
        if not stack:
            return None
        stored = self.views[stack.pop()]
        stored.status = "closed"
        self._ws.emit(Change("view_closed", user=user, view_id=stored.id))
        return stored

    def clear(self, user: str) -> None:
        while self._stacks.get(user):
            self.close_top(user)

    def set_errors(self, stored: StoredView, errors: Mapping[str, str]) -> None:
        stored.errors = {str(k): str(v) for k, v in errors.items()}
        self._ws.emit(Change("view_updated", user=stored.user, view_id=stored.id))

    def set_values(self, stored: StoredView, values: Mapping[str, InputValue]) -> None:
        """Record what the user typed or chose in the view's inputs."""
        stored.state_values = state_values(stored.blocks, stored.state_values, values)

    # ---- App Home ----------------------------------------------------------------------

    def publish(self, user: str, view: JsonDict, expected_hash: str | None) -> StoredView:
        existing = self.home(user)
        if existing is not None:
            return self.update(existing, view, expected_hash)
        stored = self._new(user, view)
        stored.status = "published"
        self._homes[user] = stored.id
        self._ws.emit(Change("home_published", user=user, view_id=stored.id))
        return stored


def _normalised(view: JsonDict) -> JsonDict:
    out = dict(view)
    out["blocks"] = with_ids(list(view.get("blocks") or []))
    return out
