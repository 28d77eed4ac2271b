"""Business-hours arithmetic: weekends, holidays, DST changes, midnight, and the fast clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from tui_desk.hours import BusinessClock, BusinessHours, parse_business_hours, parse_holidays

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def hours(lines=("mon-fri 09:00-17:00",), holidays=(), tz="Europe/Berlin") -> BusinessHours:
    return BusinessHours(tz, parse_business_hours(list(lines)), parse_holidays(list(holidays)))


def at(text: str, tz=BERLIN) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


OFFICE = hours(holidays=["2026-12-25"])


@pytest.mark.parametrize("start, end, seconds", [
    ("2026-11-23 10:00", "2026-11-23 12:30", 9000),          # inside one day
    ("2026-11-23 08:00", "2026-11-23 09:30", 1800),          # starts before opening
    ("2026-11-23 16:30", "2026-11-23 20:00", 1800),          # ends after closing
    ("2026-11-24 20:00", "2026-11-25 08:00", 0),             # overnight, closed all along
    ("2026-11-27 16:00", "2026-11-30 10:00", 7200),          # Friday → Monday: the weekend is closed
    ("2026-11-23 09:00", "2026-11-30 09:00", 5 * 8 * 3600),  # a whole week
    ("2026-12-24 16:00", "2026-12-28 09:30", 5400),          # Thursday, holiday Friday, weekend, Monday
    ("2026-11-28 10:00", "2026-11-29 15:00", 0),             # inside a weekend
    ("2026-11-23 12:00", "2026-11-23 12:00", 0),             # empty
    ("2026-11-23 12:00", "2026-11-23 11:00", 0),             # backwards
])
def test_office_hours(start, end, seconds):
    assert OFFICE.seconds_between(at(start), at(end)) == seconds


def test_dst_spring_forward_keeps_wall_clock_windows():
    # Berlin moves from CET to CEST on Sunday 2026-03-29; calendar time Fri 16:00 → Mon 10:00 is 65 h
    start, end = at("2026-03-27 16:00"), at("2026-03-30 10:00")
    assert end.timestamp() - start.timestamp() == 65 * 3600  # (same-zone subtraction is wall-clock)
    assert OFFICE.seconds_between(start, end) == 7200
    # Monday after the change opens at 09:00 CEST = 07:00 UTC
    (first, _), = OFFICE.open_intervals(at("2026-03-30 00:00"), at("2026-03-30 23:00"))
    assert first == dt.datetime(2026, 3, 30, 7, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("day, seconds", [("2026-03-29", 23 * 3600), ("2026-10-25", 25 * 3600),
                                          ("2026-06-14", 24 * 3600)])
def test_round_the_clock_day_lengths_follow_dst(day, seconds):
    always = hours(["mon-sun 00:00-24:00"])
    d = dt.date.fromisoformat(day)
    start = dt.datetime.combine(d, dt.time(0), BERLIN)
    end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(0), BERLIN)
    assert always.seconds_between(start, end) == seconds


def test_window_spanning_the_change_is_shorter():
    night = hours(["sun 00:00-06:00"])
    assert night.seconds_between(at("2026-03-29 00:00"), at("2026-03-30 00:00")) == 5 * 3600
    assert night.seconds_between(at("2026-10-25 00:00"), at("2026-10-26 00:00")) == 7 * 3600


def test_new_york_dst():
    desk = hours(["mon-fri 08:00-18:00"], tz="America/New_York")
    # 2026-03-08 is the change; Friday 17:00 EST → Monday 09:00 EDT
    assert desk.seconds_between(at("2026-03-06 17:00", NEW_YORK), at("2026-03-09 09:00", NEW_YORK)) == 7200


def test_across_midnight_windows_join():
    late = hours(["mon-fri 18:00-24:00", "tue-sat 00:00-02:00"])
    assert late.seconds_between(at("2026-11-23 23:00"), at("2026-11-24 01:00")) == 7200
    assert late.open_intervals(at("2026-11-23 17:00"), at("2026-11-24 03:00")) == [
        (dt.datetime(2026, 11, 23, 17, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 24, 1, tzinfo=dt.timezone.utc)),
    ]


def test_holiday_is_a_local_date():
    # 2026-12-25 00:30 Berlin is still 2026-12-24 in UTC: a round-the-clock desk is closed then
    always = hours(["mon-sun 00:00-24:00"], holidays=["2026-12-25"])
    assert always.seconds_between(at("2026-12-24 23:00"), at("2026-12-25 01:00")) == 3600
    assert not always.is_open(at("2026-12-25 00:30"))


def test_naive_instants_are_utc():
    assert OFFICE.seconds_between(dt.datetime(2026, 11, 23, 8), dt.datetime(2026, 11, 23, 9)) == 3600


def test_no_windows_is_never_open():
    closed = BusinessHours("UTC", [], frozenset())
    assert closed.seconds_between(at("2026-11-23 00:00"), at("2026-12-23 00:00")) == 0


SPAN_START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
SPAN_END = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
SPAN = int((SPAN_END - SPAN_START).total_seconds())
instants = st.integers(0, SPAN).map(lambda s: SPAN_START + dt.timedelta(seconds=s))
DESKS = [OFFICE, hours(["mon-fri 18:00-24:00", "tue-sat 00:00-02:00", "sun 10:00-11:30"], ["2026-10-03"]),
         hours(["mon-sat 07:30-19:15"], tz="America/New_York")]
CLOCKS = [BusinessClock(desk, SPAN_START, SPAN_END) for desk in DESKS]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(DESKS))), instants, instants, instants)
def test_properties(which, a, b, c):
    desk, clock = DESKS[which], CLOCKS[which]
    a, b, c = sorted([a, b, c])
    ab, bc, ac = desk.seconds_between(a, b), desk.seconds_between(b, c), desk.seconds_between(a, c)
    assert ab + bc == pytest.approx(ac)
    assert 0 <= ab <= (b - a).total_seconds()
    assert clock.between(a.timestamp(), b.timestamp()) == pytest.approx(ab)
    assert clock.is_open(a.timestamp()) == desk.is_open(a)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(range(len(DESKS))), st.lists(st.integers(-86400, SPAN + 86400), max_size=20))
def test_elapsed_many_matches_elapsed(which, offsets):
    clock = CLOCKS[which]
    instants = [SPAN_START.timestamp() + o for o in offsets]
    assert clock.elapsed_many(instants) == pytest.approx([clock.elapsed(t) for t in instants])


def test_periods():
    from tui_desk.errors import UsageError
    from tui_desk.reports import make_period, parse_when
    now = dt.datetime(2026, 3, 31, 12, tzinfo=dt.timezone.utc)
    assert parse_when("7d", "UTC", now) == now - dt.timedelta(days=7)
    assert parse_when("4w", "UTC", now) == now - dt.timedelta(weeks=4)
    assert parse_when("12h", "UTC", now) == now - dt.timedelta(hours=12)
    assert parse_when("1m", "UTC", now) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.timezone.utc)  # clamped
    assert parse_when("1y", "UTC", now) == dt.datetime(2025, 3, 31, 12, tzinfo=dt.timezone.utc)
    # a date is local midnight; as --until, the end of that day
    assert parse_when("2026-03-29", "Europe/Berlin", now) == dt.datetime(2026, 3, 28, 23, tzinfo=dt.timezone.utc)
    assert parse_when("2026-03-29", "Europe/Berlin", now, end=True) == dt.datetime(2026, 3, 29, 22, tzinfo=dt.timezone.utc)
    assert parse_when("2026-03-29 09:00", "Europe/Berlin", now) == dt.datetime(2026, 3, 29, 7, tzinfo=dt.timezone.utc)
    period = make_period(None, None, "UTC", default="7d", now=now)
    assert (period.since, period.until) == (now - dt.timedelta(days=7), now)
    for bad in (("soon", None, "UTC"), ("2026-03-02", "2026-03-01", "UTC"), ("7d", None, "Nowhere/City")):
        with pytest.raises(UsageError):
            make_period(*bad, now=now)

