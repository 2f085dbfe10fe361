"""The sandbox's people and conversations, made from the config: who plays which role."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import Config
from bot.sandbox.standin import StandInChannel, StandInUser
from bot.slack.i18n import Language

REPORTER_ID = "U0REP1"
CUSTOMER_ID = "U0CUS1"

# Friendly names for the demo config's people; anyone else gets a name made from their id.
_KNOWN_NAMES = {
    REPORTER_ID: ("rita", "Rita Reporter"),
    CUSTOMER_ID: ("carl", "Carl Customer"),
    "U0ENG1": ("erin", "Erin Engineer"),
    "U0ENG2": ("eli", "Eli Engineer"),
    "U0ENG3": ("esme", "Esme Engineer"),
    "U0MGR1": ("max", "Max Manager"),
    "U0MGR2": ("mia", "Mia Manager"),
}
_KNOWN_CHANNELS = {"C0SUPPORT": "support", "C0MANAGERS": "managers"}


@dataclass(frozen=True)
class Person:
    user: StandInUser
    role: str  # "reporter", "customer", "engineer", "manager", "engineer, manager"


@dataclass(frozen=True)
class DemoWorkspace:
    people: tuple[Person, ...]
    channels: tuple[StandInChannel, ...]
    language: Language = Language.ZH_CN  # the page's, and its people's Slack language

    @property
    def users(self) -> tuple[StandInUser, ...]:
        return tuple(p.user for p in self.people)

    def role(self, user_id: str) -> str:
        return next((p.role for p in self.people if p.user.id == user_id), "")


def demo_workspace(config: Config) -> DemoWorkspace:
    """A reporter, a customer, and every engineer and manager the config names."""
    roles: dict[str, list[str]] = {REPORTER_ID: ["reporter"], CUSTOMER_ID: ["customer"]}
    oncall = (*config.oncall.primary, *config.oncall.secondary)
    for user in (*config.roles.engineers, *oncall):
        _add(roles, user, "engineer")
    for user in config.roles.managers:
        _add(roles, user, "manager")
    people = tuple(
        Person(user=_user(user_id, config.timezone, config.language), role=", ".join(labels))
        for user_id, labels in roles.items()
    )
    channels: dict[str, StandInChannel] = {}
    for ref, fallback in (
        (config.channels.support, "support"),
        (config.channels.managers, "managers"),
    ):
        channel = _channel(ref, fallback)
        channels.setdefault(channel.id, channel)
    for customer in config.customers:
        channel = _channel(customer.channel, _slug(customer.name))
        channels.setdefault(channel.id, channel)
    return DemoWorkspace(people=people, channels=tuple(channels.values()), language=config.language)


def _add(roles: dict[str, list[str]], user: str, label: str) -> None:
    labels = roles.setdefault(user, [])
    if label not in labels:
        labels.append(label)


def _user(user_id: str, timezone: str, language: Language) -> StandInUser:
    name, real_name = _KNOWN_NAMES.get(user_id, (user_id.lower(), f"User {user_id}"))
    return StandInUser(
        id=user_id,
        name=name,
        real_name=real_name,
        tz=timezone,
        email=f"{name}@example.com",
        locale="zh-CN" if language is Language.ZH_CN else "en-US",
    )


def _channel(ref: str, fallback: str) -> StandInChannel:
    """A channel from a config reference: an id (C…) or a ``#name``."""
    if ref.startswith("#"):
        name = _slug(ref[1:]) or fallback
        return StandInChannel(id="C0" + re.sub(r"[^A-Z0-9]", "", name.upper()), name=name)
    return StandInChannel(id=ref, name=_KNOWN_CHANNELS.get(ref, fallback))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]
