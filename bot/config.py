"""The TOML config file (SPEC §3), validated at start into frozen typed objects.

Every key has a default; an unknown key or a bad value raises ConfigError naming the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.service_plan import DEFAULT_PLAN, ServicePlan, parse_plan
from bot.errors import ConfigError
from bot.sla.calendar import WorkCalendar
from bot.sla.policy import DEFAULT_POLICY, Policy, build_policy, parse_duration
from bot.slack.i18n import DEFAULT_LANGUAGE, Language

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")  # a person (W: Enterprise Grid)
_CHANNEL = re.compile(r"^(#[a-z0-9._-]{1,80}|[CGD][A-Z0-9]{2,})$")


@dataclass(frozen=True)
class Channels:
    support: str = "#support"
    managers: str = "#managers"


@dataclass(frozen=True)
class Roles:
    engineers: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class OnCallConfig:
    primary: tuple[str, ...] = ()
    secondary: tuple[str, ...] = ()
    shift: timedelta = timedelta(weeks=1)
    handoff: datetime | None = None  # local time, aware in the configured timezone


@dataclass(frozen=True)
class Customer:
    name: str
    channel: str
    warranty_until: date | None
    contacts: tuple[str, ...] = ()  # they get the service-quality survey
    owner: str | None = None  # keeps the customer's service plan (calls, visits, training)
    plan: ServicePlan = DEFAULT_PLAN  # [service_plan] with [customers.plan] over it


@dataclass(frozen=True)
class ReportConfig:
    channel: str  # the month's review is posted here on the first working day of a month


@dataclass(frozen=True)
class Config:
    timezone: str
    channels: Channels
    roles: Roles
    calendar: WorkCalendar
    oncall: OnCallConfig
    customers: tuple[Customer, ...]
    policy: Policy = field(default=DEFAULT_POLICY)
    # The workspace's language: channel posts; what one person sees follows their own.
    language: Language = DEFAULT_LANGUAGE
    service_plan: ServicePlan = DEFAULT_PLAN
    report: ReportConfig = ReportConfig(channel=Channels.managers)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def customer_for_channel(self, channel_id: str) -> Customer | None:
        for customer in self.customers:
            if customer.channel == channel_id:
                return customer
        return None

    def is_engineer(self, user_id: str) -> bool:
        return user_id in self.roles.engineers

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.roles.managers


_TOP_KEYS = {
    "timezone",
    "language",
    "channels",
    "roles",
    "calendar",
    "oncall",
    "customers",
    "service_plan",
    "report",
    "sla",
}
_CALENDAR_DEFAULTS: dict[str, Any] = {
    "workdays": ["mon", "tue", "wed", "thu", "fri"],
    "hours": "08:30-17:30",
    "holidays": "CN",
    "extra_holidays": [],
    "extra_workdays": [],
    "own_holiday_years": [],
}


def load_config(path: str | None, *, named_by: str = "ESCALATOR_CONFIG") -> Config:
    """Load ``path`` (or the built-in defaults when None); ``named_by``: what gave the path
    (the setting, or a command's argument), named when the file cannot be read."""
    if path is None:
        return parse_config({})
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(named_by, f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:  # saved as GBK, say: TOML is UTF-8
        raise ConfigError(
            named_by, f"{path} is not UTF-8 (byte {exc.start + 1}); save it as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(named_by, f"{path} is not valid TOML: {exc}") from None
    return parse_config(data)


def parse_config(data: Mapping[str, Any]) -> Config:
    _no_unknown(data, _TOP_KEYS, "")
    timezone = _str(data, "timezone", "Asia/Shanghai", "timezone")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("timezone", f"unknown timezone {timezone!r}") from None
    language_text = _str(data, "language", DEFAULT_LANGUAGE.value, "language")
    try:
        language = Language(language_text)
    except ValueError:
        known = ", ".join(repr(lang.value) for lang in Language)
        raise ConfigError("language", f"{language_text!r} is not one of {known}") from None

    channels_t = _table(data, "channels")
    _no_unknown(channels_t, {"support", "managers"}, "channels")
    channels = Channels(
        support=_channel(channels_t, "support", Channels.support),
        managers=_channel(channels_t, "managers", Channels.managers),
    )

    roles_t = _table(data, "roles")
    _no_unknown(roles_t, {"engineers", "managers"}, "roles")
    roles = Roles(
        engineers=_user_list(roles_t, "engineers", "roles"),
        managers=_user_list(roles_t, "managers", "roles"),
    )

    cal_t = _table(data, "calendar")
    _no_unknown(cal_t, set(_CALENDAR_DEFAULTS), "calendar")
    cal = {**_CALENDAR_DEFAULTS, **cal_t}
    calendar = WorkCalendar.build(
        timezone=timezone,
        workdays=_strings(cal, "workdays", "calendar.workdays"),
        hours=_str(cal, "hours", "", "calendar.hours"),
        holidays=_str(cal, "holidays", "", "calendar.holidays"),
        extra_holidays=_strings(cal, "extra_holidays", "calendar.extra_holidays"),
        extra_workdays=_strings(cal, "extra_workdays", "calendar.extra_workdays"),
        own_holiday_years=_years(cal.get("own_holiday_years", [])),
    )

    oncall = _oncall(_table(data, "oncall"), tz)
    service_plan = parse_plan(_table(data, "service_plan"), key="service_plan", base=None)
    customers = _customers(data.get("customers", []), service_plan)
    report_t = _table(data, "report")
    _no_unknown(report_t, {"channel"}, "report")
    report = ReportConfig(channel=_channel(report_t, "channel", channels.managers, "report"))
    policy = build_policy(_table(data, "sla"))
    return Config(
        timezone=timezone,
        channels=channels,
        roles=roles,
        calendar=calendar,
        oncall=oncall,
        customers=customers,
        policy=policy,
        language=language,
        service_plan=service_plan,
        report=report,
    )


def _oncall(table: Mapping[str, Any], tz: ZoneInfo) -> OnCallConfig:
    _no_unknown(table, {"primary", "secondary", "shift", "handoff"}, "oncall")
    shift_text = _str(table, "shift", "1w", "oncall.shift")
    length = parse_duration(shift_text, key="oncall.shift")  # SPEC §3's durations
    if length.months:
        raise ConfigError(
            "oncall.shift",
            f"{shift_text!r}: a shift has a fixed length; write it in w, d, h, m or s",
        )
    shift = length.elapsed
    handoff: datetime | None = None
    if "handoff" in table:
        raw = table["handoff"]
        try:
            handoff = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        except ValueError:
            raise ConfigError("oncall.handoff", f"expected YYYY-MM-DDTHH:MM, not {raw!r}") from None
        handoff = handoff.replace(tzinfo=tz) if handoff.tzinfo is None else handoff
    return OnCallConfig(
        primary=_user_list(table, "primary", "oncall"),
        secondary=_user_list(table, "secondary", "oncall"),
        shift=shift,
        handoff=handoff,
    )


def _customers(raw: object, service_plan: ServicePlan) -> tuple[Customer, ...]:
    if not isinstance(raw, list):
        raise ConfigError("customers", "expected [[customers]] tables")
    result: list[Customer] = []
    for index, item in enumerate(raw):
        key = f"customers[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(key, "expected a table")
        _no_unknown(item, {"name", "channel", "warranty_until", "contacts", "owner", "plan"}, key)
        name = _str(item, "name", "", f"{key}.name")
        if not name.strip():
            raise ConfigError(f"{key}.name", "is required")
        channel = _channel(item, "channel", "", prefix=key)
        until_raw = item.get("warranty_until")
        until: date | None = None
        if isinstance(until_raw, datetime):  # a datetime is a date too, to isinstance
            raise ConfigError(
                f"{key}.warranty_until", f"{until_raw!r} is a time; expected a date (YYYY-MM-DD)"
            )
        if until_raw is not None:
            try:
                until = until_raw if isinstance(until_raw, date) else date.fromisoformat(until_raw)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"{key}.warranty_until", f"expected YYYY-MM-DD, not {until_raw!r}"
                ) from None
        owner: str | None = None
        if "owner" in item:
            owner = _str(item, "owner", "", f"{key}.owner")
            if not _USER_ID.match(owner):
                raise ConfigError(f"{key}.owner", f"{owner!r} is not a Slack user id (U…)")
        plan_t = item.get("plan", {})
        if not isinstance(plan_t, dict):
            raise ConfigError(f"{key}.plan", "expected a table ([customers.plan])")
        result.append(
            Customer(
                name=name,
                channel=channel,
                warranty_until=until,
                contacts=_user_list(item, "contacts", key),
                owner=owner,
                plan=parse_plan(plan_t, key=f"{key}.plan", base=service_plan),
            )
        )
    names = [c.name for c in result]
    for customer in result:
        if names.count(customer.name) > 1:
            raise ConfigError("customers", f"two customers are named {customer.name!r}")
    return tuple(result)


def _years(value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and 2000 <= v <= 2100 for v in value
    ):
        raise ConfigError("calendar.own_holiday_years", "expected a list of years such as [2027]")
    return tuple(value)


def _no_unknown(table: Mapping[str, Any], known: set[str], prefix: str) -> None:
    for key in table:
        if key not in known:
            name = f"{prefix}.{key}" if prefix else key
            raise ConfigError(name, f"unknown key (known: {', '.join(sorted(known))})")


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(key, "expected a table")
    return value


def _str(data: Mapping[str, Any], key: str, default: str, name: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(name, f"expected a string, not {value!r}")
    return value


def _strings(data: Mapping[str, Any], key: str, name: str) -> Sequence[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(name, "expected a list of strings")
    return tuple(value)


def _user_list(data: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    name = f"{prefix}.{key}"
    users = _strings(data, key, name)
    for user in users:
        if not _USER_ID.match(user):
            raise ConfigError(name, f"{user!r} is not a Slack user id (U…)")
    return tuple(users)


def _channel(data: Mapping[str, Any], key: str, default: str, prefix: str = "channels") -> str:
    name = f"{prefix}.{key}"
    value = _str(data, key, default, name)
    if not _CHANNEL.match(value):
        raise ConfigError(name, f"{value!r} is not a channel id (C…) or #name")
    return value
