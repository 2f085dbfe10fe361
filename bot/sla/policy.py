"""The promises of each severity class (SPEC §4) as data, and their config overrides.

The built-in table is :data:`DEFAULT_POLICY`. ``[sla.X]`` tables in the config file
override single durations of class X; for C and D those apply in warranty, and
``[sla.C.out_of_warranty]`` overrides the out-of-warranty promises. A and B have the
same promises in and out of warranty (SPEC §4), so their out-of-warranty terms follow
``[sla.A]`` unless ``[sla.A.out_of_warranty]`` says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from bot.errors import ConfigError


class Severity(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Milestone(StrEnum):
    RESPOND = "respond"
    DIAGNOSE = "diagnose"
    PLAN = "plan"
    RESOLVE = "resolve"


class ClockKind(StrEnum):
    """Which clock a class runs on."""

    ELAPSED = "24x7"  # real elapsed time, day and night
    WORKING = "working"  # the [calendar]'s working time


class Anchor(StrEnum):
    """What the plan milestone counts from."""

    REPORT = "report"
    CAUSE = "cause"  # the cause identified, or the diagnose deadline until then


_UNIT_SECONDS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)mo)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


@dataclass(frozen=True)
class Duration:
    """A promised length of time: ``days`` whole days plus ``seconds``.

    A day is not a fixed length: on a 24x7 clock it is 24 hours, on a working-time
    clock it is one working day, the length of one day's working hours of the calendar
    (7.5 h for ``"08:30-12:00,13:30-17:30"``). :meth:`resolve` turns the value into a
    ``timedelta`` of that clock. ``1w`` is 7 days (7 working days on a working clock).
    ``months`` are calendar months (``1mo``): they have no fixed length, so only the
    service plan's cadences take them; :meth:`resolve` refuses them.
    """

    seconds: int = 0
    days: int = 0
    months: int = 0

    def resolve(self, day_length: timedelta) -> timedelta:
        """This duration on a clock whose day is ``day_length`` long."""
        if self.months:
            raise ValueError("a duration in calendar months has no fixed length")
        return self.days * day_length + timedelta(seconds=self.seconds)

    @property
    def elapsed(self) -> timedelta:
        """This duration on a 24x7 clock (a day is 24 hours)."""
        return self.resolve(timedelta(days=1))

    def __str__(self) -> str:
        parts = [f"{self.months}mo"] if self.months else []
        parts += [f"{self.days}d"] if self.days else []
        rest = self.seconds
        for unit in ("h", "m", "s"):
            amount, rest = divmod(rest, _UNIT_SECONDS[unit])
            if amount:
                parts.append(f"{amount}{unit}")
        return "".join(parts) or "0s"


def parse_duration(text: str, *, key: str) -> Duration:
    """Parse ``"90s"``, ``"15m"``, ``"4h"``, ``"1d"``, ``"1w"``, ``"1mo"`` (calendar months)
    or a combination in the order mo, w, d, h, m, s (``"1h30m"``). Raises
    :class:`ConfigError` naming ``key`` on a bad value."""
    if not isinstance(text, str):
        raise ConfigError(key, f"expected a duration such as '4h' in quotes, got {text!r}")
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ConfigError(
            key,
            f"{text!r} is not a duration; write a whole number and a unit: "
            "90s, 15m, 4h, 1d, 2w, 1mo",
        )
    months, weeks, days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    duration = Duration(
        seconds=hours * 3_600 + minutes * 60 + seconds, days=weeks * 7 + days, months=months
    )
    if duration == Duration():
        raise ConfigError(key, f"{text!r}: a promise must be longer than zero")
    return duration


SIGNOFF_WAIT_DAYS = 3  # working days the reporter has to answer "Is it fixed?" (SPEC §6)


@dataclass(frozen=True)
class Terms:
    """The promises of one class, in or out of warranty.

    ``diagnose`` is None when there is no diagnose milestone (C and D out of warranty).
    ``plan_after`` says whether the plan counts from the report or from the cause
    (the diagnose deadline until the cause is identified). ``pausable``: waiting for the
    customer stops the clock. ``needs_acceptance``: a manager accepts or declines the
    request first (C and D out of warranty).
    """

    clock: ClockKind
    respond: Duration
    diagnose: Duration | None
    plan: Duration
    plan_after: Anchor
    pausable: bool
    needs_acceptance: bool = False

    def __post_init__(self) -> None:
        if self.plan_after is Anchor.CAUSE and self.diagnose is None:
            raise ValueError("a plan that counts from the cause needs a diagnose milestone")

    def durations(self) -> dict[Milestone, Duration]:
        """The milestones these terms promise, with their durations, in order."""
        found = {Milestone.RESPOND: self.respond, Milestone.DIAGNOSE: self.diagnose}
        found[Milestone.PLAN] = self.plan
        return {milestone: d for milestone, d in found.items() if d is not None}


@dataclass(frozen=True)
class ClassPolicy:
    in_warranty: Terms
    out_of_warranty: Terms


@dataclass(frozen=True)
class Policy:
    """The promises of every class. ``classes`` holds one entry per :class:`Severity`."""

    classes: tuple[tuple[Severity, ClassPolicy], ...]

    def of(self, severity: Severity) -> ClassPolicy:
        for known, class_policy in self.classes:
            if known is severity:
                return class_policy
        raise KeyError(severity)

    def terms(self, severity: Severity, *, in_warranty: bool) -> Terms:
        class_policy = self.of(Severity(severity))
        return class_policy.in_warranty if in_warranty else class_policy.out_of_warranty

    def describe(self) -> list[str]:
        """One line per class and warranty state, for ``escalator check-config``."""
        lines = []
        for severity, class_policy in self.classes:
            for label, terms in (
                ("in warranty", class_policy.in_warranty),
                ("out of warranty", class_policy.out_of_warranty),
            ):
                parts = [f"{m} {d}" for m, d in terms.durations().items()]
                parts[-1] += f" after {terms.plan_after}"
                extra = ", paused while waiting" if terms.pausable else ""
                extra += ", manager accepts first" if terms.needs_acceptance else ""
                lines.append(f"{severity} {label} ({terms.clock}{extra}): " + ", ".join(parts))
        return lines


def _d(text: str) -> Duration:
    return parse_duration(text, key="sla")


def _elapsed(respond: str, diagnose: str, plan: str) -> ClassPolicy:
    terms = Terms(
        clock=ClockKind.ELAPSED,
        respond=_d(respond),
        diagnose=_d(diagnose),
        plan=_d(plan),
        plan_after=Anchor.CAUSE,
        pausable=False,
    )
    return ClassPolicy(in_warranty=terms, out_of_warranty=terms)


def _working() -> ClassPolicy:
    return ClassPolicy(
        in_warranty=Terms(
            clock=ClockKind.WORKING,
            respond=_d("4h"),
            diagnose=_d("8h"),
            plan=_d("1d"),
            plan_after=Anchor.CAUSE,
            pausable=True,
        ),
        out_of_warranty=Terms(
            clock=ClockKind.WORKING,
            respond=_d("1d"),
            diagnose=None,
            plan=_d("3d"),
            plan_after=Anchor.REPORT,
            pausable=True,
            needs_acceptance=True,
        ),
    )


DEFAULT_POLICY = Policy(
    classes=(
        (Severity.A, _elapsed("15m", "1h", "2h")),
        (Severity.B, _elapsed("30m", "4h", "12h")),
        (Severity.C, _working()),
        (Severity.D, _working()),
    )
)

_OUT = "out_of_warranty"


def _override_terms(terms: Terms, table: Mapping[str, object], *, key: str) -> Terms:
    found: dict[str, Duration] = {}
    for name, value in table.items():
        item_key = f"{key}.{name}"
        if name == Milestone.RESOLVE:
            raise ConfigError(item_key, "resolve follows the agreed fix date; it has no duration")
        if name not in (Milestone.RESPOND, Milestone.DIAGNOSE, Milestone.PLAN):
            raise ConfigError(item_key, "unknown key; expected respond, diagnose or plan")
        if name == Milestone.DIAGNOSE and terms.diagnose is None:
            raise ConfigError(item_key, "there is no diagnose milestone out of warranty")
        if not isinstance(value, str):
            raise ConfigError(item_key, f'expected a duration such as "4h", got {value!r}')
        found[name] = parse_duration(value, key=item_key)
        if found[name].months:
            raise ConfigError(
                item_key, f"{value!r}: a promise is kept in days or hours, not months"
            )
    return replace(
        terms,
        respond=found.get(Milestone.RESPOND, terms.respond),
        diagnose=found.get(Milestone.DIAGNOSE, terms.diagnose),
        plan=found.get(Milestone.PLAN, terms.plan),
    )


def build_policy(overrides: Mapping[str, object], base: Policy = DEFAULT_POLICY) -> Policy:
    """The built-in policy with the ``[sla]`` table of the config file applied.

    ``overrides`` is the parsed TOML table, e.g. ``{"A": {"respond": "15m"}}``. An unknown
    class or key or a bad duration raises :class:`ConfigError` naming the key
    (``sla.A.respond``)."""
    if not isinstance(overrides, Mapping):
        raise ConfigError("sla", "must be a table such as [sla.A]")
    for name in overrides:
        if name not in Severity.__members__:
            raise ConfigError(f"sla.{name}", "unknown class; expected A, B, C or D")
    classes = []
    for severity, class_policy in base.classes:
        table = overrides.get(severity.value)
        if table is None:
            classes.append((severity, class_policy))
            continue
        key = f"sla.{severity}"
        if not isinstance(table, Mapping):
            raise ConfigError(key, f"must be a table ([{key}]) of durations")
        out_table = table.get(_OUT, {})
        if not isinstance(out_table, Mapping):
            raise ConfigError(f"{key}.{_OUT}", f"must be a table ([{key}.{_OUT}]) of durations")
        own = {name: value for name, value in table.items() if name != _OUT}
        in_terms = _override_terms(class_policy.in_warranty, own, key=key)
        same = class_policy.in_warranty == class_policy.out_of_warranty
        out_base = in_terms if same else class_policy.out_of_warranty
        out_terms = _override_terms(out_base, out_table, key=f"{key}.{_OUT}")
        classes.append((severity, ClassPolicy(in_warranty=in_terms, out_of_warranty=out_terms)))
    return Policy(classes=tuple(classes))
