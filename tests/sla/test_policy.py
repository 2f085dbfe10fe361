"""Durations, the built-in policy of SPEC §4 and its config overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import ConfigError
from bot.sla.policy import (
    DEFAULT_POLICY,
    Anchor,
    ClockKind,
    Duration,
    Milestone,
    Severity,
    build_policy,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", Duration(seconds=90)),
        ("15m", Duration(seconds=900)),
        ("4h", Duration(seconds=4 * 3600)),
        ("1d", Duration(days=1)),
        ("3d", Duration(days=3)),
        ("1w", Duration(days=7)),
        ("1h30m", Duration(seconds=5400)),
        ("1d4h", Duration(seconds=4 * 3600, days=1)),
        (" 2h ", Duration(seconds=7200)),
        ("2w", Duration(days=14)),
        ("1mo", Duration(months=1)),
        ("6mo", Duration(months=6)),
        ("1mo2w", Duration(months=1, days=14)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text, key="sla.A.respond") == expected


@pytest.mark.parametrize(
    "text",
    ["", "h", "4", "4x", "1.5h", "-1h", "0m", "4 h", "30m1h", "1D", "0mo", "1m1mo", "1month"],
)
def test_bad_duration_names_the_key(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(text, key="sla.B.plan")
    assert caught.value.key == "sla.B.plan"
    assert str(caught.value).startswith("sla.B.plan: ")


def test_duration_that_is_not_text_names_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(15, key="sla.A.respond")  # type: ignore[arg-type]
    assert caught.value.key == "sla.A.respond"


@pytest.mark.parametrize(
    ("duration", "day_length", "expected"),
    [
        (Duration(days=1), timedelta(hours=7, minutes=30), timedelta(hours=7, minutes=30)),
        (Duration(days=3), timedelta(hours=9), timedelta(hours=27)),
        (Duration(seconds=3600, days=1), timedelta(hours=9), timedelta(hours=10)),
        (Duration(seconds=4 * 3600), timedelta(hours=9), timedelta(hours=4)),
    ],
)
def test_a_day_resolves_against_the_clock_day(
    duration: Duration, day_length: timedelta, expected: timedelta
) -> None:
    assert duration.resolve(day_length) == expected


def test_a_day_on_the_24x7_clock_is_24_hours() -> None:
    assert Duration(days=1).elapsed == timedelta(hours=24)
    assert Duration(seconds=90).elapsed == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("text", "shown"),
    [("15m", "15m"), ("4h", "4h"), ("1d", "1d"), ("90s", "1m30s"), ("1w", "7d"), ("2d3h4m5s",) * 2],
)
def test_duration_prints_in_normal_form(text: str, shown: str) -> None:
    assert str(parse_duration(text, key="k")) == shown


# severity, in warranty, clock, respond, diagnose, plan, plan counts from, pausable
SPEC_TABLE = [
    (Severity.A, True, ClockKind.ELAPSED, "15m", "1h", "2h", Anchor.CAUSE, False),
    (Severity.A, False, ClockKind.ELAPSED, "15m", "1h", "2h", Anchor.CAUSE, False),
    (Severity.B, True, ClockKind.ELAPSED, "30m", "4h", "12h", Anchor.CAUSE, False),
    (Severity.B, False, ClockKind.ELAPSED, "30m", "4h", "12h", Anchor.CAUSE, False),
    (Severity.C, True, ClockKind.WORKING, "4h", "8h", "1d", Anchor.CAUSE, True),
    (Severity.C, False, ClockKind.WORKING, "1d", None, "3d", Anchor.REPORT, True),
    (Severity.D, True, ClockKind.WORKING, "4h", "8h", "1d", Anchor.CAUSE, True),
    (Severity.D, False, ClockKind.WORKING, "1d", None, "3d", Anchor.REPORT, True),
]


@pytest.mark.parametrize(
    ("severity", "in_warranty", "clock", "respond", "diagnose", "plan", "plan_after", "pausable"),
    SPEC_TABLE,
)
def test_default_policy_is_the_spec_table(
    severity: Severity,
    in_warranty: bool,
    clock: ClockKind,
    respond: str,
    diagnose: str | None,
    plan: str,
    plan_after: Anchor,
    pausable: bool,
) -> None:
    terms = DEFAULT_POLICY.terms(severity, in_warranty=in_warranty)
    assert terms.clock is clock
    assert str(terms.respond) == respond
    assert (None if terms.diagnose is None else str(terms.diagnose)) == diagnose
    assert str(terms.plan) == plan
    assert terms.plan_after is plan_after
    assert terms.pausable is pausable
    assert terms.needs_acceptance is (severity in "CD" and not in_warranty)


def test_out_of_warranty_has_no_diagnose_milestone() -> None:
    terms = DEFAULT_POLICY.terms(Severity.C, in_warranty=False)
    assert list(terms.durations()) == [Milestone.RESPOND, Milestone.PLAN]


def test_no_overrides_is_the_default_policy() -> None:
    assert build_policy({}) == DEFAULT_POLICY


def test_override_a_class_keeps_the_rest() -> None:
    policy = build_policy({"A": {"respond": "10m", "plan": "3h"}})
    a = policy.terms(Severity.A, in_warranty=True)
    assert (str(a.respond), str(a.diagnose), str(a.plan)) == ("10m", "1h", "3h")
    assert policy.terms(Severity.A, in_warranty=False) == a
    for severity in (Severity.B, Severity.C, Severity.D):
        assert policy.of(severity) == DEFAULT_POLICY.of(severity)


def test_override_of_c_applies_in_warranty_only() -> None:
    policy = build_policy({"C": {"plan": "2d"}})
    assert str(policy.terms(Severity.C, in_warranty=True).plan) == "2d"
    assert str(policy.terms(Severity.C, in_warranty=False).plan) == "3d"
    assert policy.of(Severity.D) == DEFAULT_POLICY.of(Severity.D)


def test_override_out_of_warranty_table() -> None:
    policy = build_policy({"D": {"out_of_warranty": {"respond": "2d", "plan": "5d"}}})
    out = policy.terms(Severity.D, in_warranty=False)
    assert (str(out.respond), out.diagnose, str(out.plan)) == ("2d", None, "5d")
    assert policy.terms(Severity.D, in_warranty=True) == DEFAULT_POLICY.terms(
        Severity.D, in_warranty=True
    )


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"E": {"respond": "1h"}}, "sla.E"),
        ({"a": {"respond": "1h"}}, "sla.a"),
        ({"A": "15m"}, "sla.A"),
        ({"A": {"ack": "1h"}}, "sla.A.ack"),
        ({"A": {"respond": "soon"}}, "sla.A.respond"),
        ({"A": {"respond": 15}}, "sla.A.respond"),
        ({"B": {"diagnose": "0h"}}, "sla.B.diagnose"),
        ({"B": {"resolve": "1d"}}, "sla.B.resolve"),
        ({"C": {"out_of_warranty": "1d"}}, "sla.C.out_of_warranty"),
        ({"C": {"out_of_warranty": {"diagnose": "1h"}}}, "sla.C.out_of_warranty.diagnose"),
        ({"D": {"out_of_warranty": {"plan": "3 days"}}}, "sla.D.out_of_warranty.plan"),
    ],
)
def test_bad_override_names_the_key(overrides: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_policy(overrides)
    assert caught.value.key == key


def test_describe_lists_every_class_and_warranty_state() -> None:
    lines = DEFAULT_POLICY.describe()
    assert len(lines) == 8
    assert lines[0] == "A in warranty (24x7): respond 15m, diagnose 1h, plan 2h after cause"
    assert "C out of warranty" in lines[5] and "plan 3d after report" in lines[5]


def test_a_promise_in_months_is_refused_with_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        build_policy({"C": {"plan": "1mo"}})
    assert caught.value.key == "sla.C.plan"
    with pytest.raises(ValueError, match="months"):
        Duration(months=1).resolve(timedelta(hours=8))
