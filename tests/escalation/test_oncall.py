"""The on-call rotation: table cases and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.rotation import OnCallRotation, Override

SH = ZoneInfo("Asia/Shanghai")
HANDOFF = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
H = timedelta(hours=1)
WEEK = timedelta(weeks=1)


def rotation(*overrides: Override, shift: timedelta = WEEK) -> OnCallRotation:
    return OnCallRotation(("U1", "U2", "U3"), ("S1", "S2"), shift, HANDOFF, overrides)


@pytest.mark.parametrize(
    ("at", "primary", "secondary"),
    [
        (HANDOFF, "U1", "S1"),
        (HANDOFF + WEEK - timedelta(microseconds=1), "U1", "S1"),
        (HANDOFF + WEEK, "U2", "S2"),
        (HANDOFF + 2 * WEEK, "U3", "S1"),
        (HANDOFF + 3 * WEEK, "U1", "S2"),
        (HANDOFF - timedelta(seconds=1), "U3", "S2"),  # before the handoff it runs backwards
    ],
)
def test_rotation_table(at: datetime, primary: str, secondary: str) -> None:
    now = rotation().at(at)
    assert (now.primary, now.secondary) == (primary, secondary)


def test_an_override_replaces_the_primary_for_its_time_only() -> None:
    override = Override("U9", HANDOFF + 2 * H, HANDOFF + 6 * H)
    r = rotation(override)
    before, during, after = (r.at(HANDOFF + h * H) for h in (1, 2, 6))
    assert (before.primary, during.primary, after.primary) == ("U1", "U9", "U1")
    assert during.secondary == "S1" and during.override and not after.override
    assert before.until == HANDOFF + 2 * H and during.since == HANDOFF + 2 * H
    assert during.until == HANDOFF + 6 * H


def test_the_latest_override_wins_where_two_overlap() -> None:
    r = rotation(
        Override("U8", HANDOFF, HANDOFF + 4 * H), Override("U9", HANDOFF + H, HANDOFF + 2 * H)
    )
    assert [r.at(HANDOFF + h * H).primary for h in (0, 1, 2, 3)] == ["U8", "U9", "U8", "U8"]


def test_now_and_next() -> None:
    current, following = rotation().now_and_next(HANDOFF + H)
    assert (current.primary, current.until) == ("U1", HANDOFF + WEEK)
    assert (following.primary, following.secondary, following.since) == ("U2", "S2", HANDOFF + WEEK)
    single = OnCallRotation(("U1",), (), timedelta(days=1), HANDOFF)
    now, nxt = single.now_and_next(HANDOFF)
    assert now.primary == nxt.primary == "U1" and nxt.secondary is None  # no change within a year


def test_now_lasts_until_next_takes_over() -> None:
    """An override of the next shift's own primary, ending in the middle of that shift:
    the primary stays U2 until the shift after, and "now" says so (it said the handoff,
    a week before "next")."""
    r = OnCallRotation(
        ("U1", "U2"), ("S1",), WEEK, HANDOFF, (Override("U2", HANDOFF + H, HANDOFF + WEEK + H),)
    )
    current, following = r.now_and_next(HANDOFF + 2 * H)
    assert (current.primary, current.override, following.primary) == ("U2", True, "U1")
    assert current.until == following.since == HANDOFF + 2 * WEEK
    # two overrides back to back by one person read as one stretch
    r = rotation(
        Override("U9", HANDOFF + H, HANDOFF + 2 * H),
        Override("U9", HANDOFF + 2 * H, HANDOFF + 3 * H),
    )
    current, following = r.now_and_next(HANDOFF + H)
    assert (current.primary, current.until) == ("U9", HANDOFF + 3 * H)
    assert (following.primary, following.since) == ("U1", HANDOFF + 3 * H)


def test_an_empty_rotation_has_no_one_but_an_override() -> None:
    empty = OnCallRotation((), (), WEEK, HANDOFF)
    assert empty.at(HANDOFF).primary is None
    assert empty.with_overrides([Override("U9", HANDOFF, HANDOFF + H)]).at(HANDOFF).primary == "U9"


def test_build_without_handoff_starts_on_a_monday_morning() -> None:
    r = OnCallRotation.build(primary=["U1"], secondary=[], shift=WEEK, handoff=None, tz=SH)
    assert r.handoff.weekday() == 0 and r.handoff.hour == 9 and r.handoff.tzinfo == SH
    with pytest.raises(ValueError):
        OnCallRotation(("U1",), (), timedelta(0), HANDOFF)


people = st.lists(st.sampled_from(["U1", "U2", "U3", "U4"]), min_size=1, max_size=4)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2032, 1, 1), timezones=st.just(UTC)
)
shifts = st.integers(min_value=1, max_value=24 * 14).map(lambda h: timedelta(hours=h))
overrides = st.lists(
    st.tuples(st.sampled_from(["U7", "U8"]), instants, st.integers(1, 500)).map(
        lambda o: Override(o[0], o[1], o[1] + timedelta(hours=o[2]))
    ),
    max_size=4,
)


@given(primary=people, secondary=people, shift=shifts, extra=overrides, t=instants)
def test_exactly_one_primary_at_any_instant(
    primary: list[str], secondary: list[str], shift: timedelta, extra: list[Override], t: datetime
) -> None:
    r = OnCallRotation(tuple(primary), tuple(secondary), shift, HANDOFF, tuple(extra))
    now = r.at(t)
    assert now.primary is not None
    active = [o for o in extra if o.start <= t < o.end]
    if active:
        assert now.primary == active[-1].user and now.override
    else:
        assert now.primary in primary and not now.override
    assert now.secondary in secondary


@given(primary=people, shift=shifts, extra=overrides, t=instants, frac=st.floats(0, 1))
def test_no_one_changes_within_a_stretch(
    primary: list[str], shift: timedelta, extra: list[Override], t: datetime, frac: float
) -> None:
    r = OnCallRotation(tuple(primary), ("S1",), shift, HANDOFF, tuple(extra))
    now = r.at(t)
    assert now.since <= t < now.until
    inside = now.since + (now.until - now.since) * frac
    if inside < now.until:
        assert r.at(inside).primary == now.primary
    later = r.at(now.until)
    assert later.since == now.until


@given(primary=people, secondary=people, shift=shifts, extra=overrides, t=instants)
def test_next_takes_over_when_now_ends(
    primary: list[str], secondary: list[str], shift: timedelta, extra: list[Override], t: datetime
) -> None:
    r = OnCallRotation(tuple(primary), tuple(secondary), shift, HANDOFF, tuple(extra))
    current, following = r.now_and_next(t)
    assert current.since <= t < current.until == following.since
    if (following.primary, following.secondary) != (current.primary, current.secondary):
        before = r.at(following.since - timedelta(microseconds=1))
        assert (before.primary, before.secondary) == (current.primary, current.secondary)
