"""Rotation arithmetic: properties (hypothesis), DST handoffs, member changes, swaps."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tui_desk.errors import UsageError
from tui_desk.oncall.schedule import Epoch, Override, Rotation, Swap
from tui_desk.oncall.timeparse import UTC, parse_handoff, parse_length, parse_when

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Sydney", "Asia/Kolkata"]
PEOPLE = ["ana", "bo", "chen", "dara", "eli"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rotation(members=("ana", "bo", "chen"), tz="Europe/Berlin", anchor="2026-01-05T09:00", hours=168, **kw):
    return Rotation(name="support", timezone=tz, anchor=dt.datetime.fromisoformat(anchor), length_hours=hours,
                    epochs=(Epoch(0, tuple(members)),), **kw)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@st.composite
def rotations(draw, zones=ZONES, overrides=True):
    members = tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=5, unique=True)))
    anchor = dt.datetime(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 360)),
                                                    hours=draw(st.integers(0, 23)), minutes=draw(st.sampled_from([0, 30])))
    rot = Rotation("r", draw(st.sampled_from(zones)), anchor, draw(st.sampled_from([1, 8, 12, 24, 48, 168, 336])),
                   (Epoch(0, members),))
    if overrides:
        start = rot.shift_start(0)
        found, cursor = [], start
        for i in range(draw(st.integers(0, 4))):
            cursor += dt.timedelta(minutes=draw(st.integers(0, 20000)))
            end = cursor + dt.timedelta(minutes=draw(st.integers(1, 20000)))
            found.append(Override(draw(st.sampled_from(PEOPLE)), cursor, end, id=i + 1))
            cursor = end
        rot = replace(rot, overrides=tuple(found))
    return rot


offsets = st.integers(0, 60 * 24 * 400)  # minutes after the rotation starts


@FAST
@given(rotations(), offsets, st.integers(60, 60 * 24 * 60))
def test_exactly_one_person_at_every_instant(rot, offset, span):
    start = rot.shift_start(0) + dt.timedelta(minutes=offset)
    end = start + dt.timedelta(minutes=span)
    segs = rot.segments(start, end)
    assert segs[0].start == start and segs[-1].end == end
    for a, b in zip(segs, segs[1:]):
        assert a.end == b.start  # no gap, no overlap
    assert all(s.start < s.end for s in segs)
    for s in segs[:: max(1, len(segs) // 5)]:
        probe = s.start + (s.end - s.start) / 3
        assert rot.at(probe).who == s.who


@FAST
@given(rotations(overrides=False), offsets)
def test_schedule_repeats_with_period_members_times_length(rot, offset):
    n = len(rot.members)
    k = rot.shift_at(rot.shift_start(0) + dt.timedelta(minutes=offset))
    assert rot.holder(k) == rot.holder(k + n)
    # handoffs keep their wall-clock time; in a zone without DST the period is exact in hours
    local = lambda i: rot.shift_start(i).astimezone(rot.tz).replace(tzinfo=None)  # noqa: E731
    naive_ok = [local(i) == rot.anchor + dt.timedelta(hours=rot.length_hours * i) for i in (k, k + n)]
    if all(naive_ok):
        period = dt.timedelta(hours=n * rot.length_hours)
        t = rot.shift_start(0) + dt.timedelta(minutes=offset)
        if rot.timezone in ("UTC", "Asia/Shanghai", "Asia/Kolkata"):
            assert rot.at(t).who == rot.at(t + period).who


@FAST
@given(rotations(overrides=False), offsets, st.integers(1, 60 * 24 * 20), st.sampled_from(PEOPLE),
       st.lists(st.integers(-60 * 24 * 30, 60 * 24 * 50), min_size=1, max_size=12))
def test_an_override_covers_exactly_its_interval(rot, offset, length, who, probes):
    start = rot.shift_start(0) + dt.timedelta(minutes=offset)
    o = Override(who, start, start + dt.timedelta(minutes=length), id=7)
    with_o = replace(rot, overrides=(o,))
    for minutes in probes + [0, length - 1, length]:
        t = start + dt.timedelta(minutes=minutes)
        if t < rot.shift_start(0):
            continue
        expected = who if o.start <= t < o.end else rot.at(t).who
        assert with_o.at(t).who == expected
    covered = sum((s.end - s.start for s in with_o.segments(o.start - dt.timedelta(days=30), o.end +
                   dt.timedelta(days=30)) if s.override == 7), dt.timedelta())
    assert covered == o.end - o.start


@FAST
@given(rotations(zones=["UTC", "Asia/Shanghai", "Asia/Kolkata"], overrides=False), st.integers(0, 40),
       st.integers(0, 40))
def test_a_swap_preserves_each_persons_total_hours(rot, a, b):
    swapped = replace(rot, swaps=(Swap(a, b),))
    start, end = rot.shift_start(0), rot.shift_start(max(a, b) + 1)

    def totals(r):
        hours = defaultdict(float)
        for s in r.segments(start, end):
            hours[s.who] += s.hours
        return dict(hours)

    assert totals(swapped) == totals(rot)
    if a != b:
        assert swapped.holder(a) == rot.holder(b) and swapped.holder(b) == rot.holder(a)


# --- DST ----------------------------------------------------------------------------------

def test_berlin_weekly_handoff_stays_at_nine_across_both_changes():
    rot = rotation(tz="Europe/Berlin", anchor="2026-03-16T09:00")
    berlin = ZoneInfo("Europe/Berlin")
    starts = [rot.shift_start(k) for k in range(0, 34)]
    assert all(s.astimezone(berlin).hour == 9 and s.astimezone(berlin).weekday() == 0 for s in starts)
    # spring forward on Sunday 2026-03-29: the week of Monday 23 March is an hour short
    assert rot.shift_start(1) == utc("2026-03-23T08:00") and rot.shift_start(2) == utc("2026-03-30T07:00")
    assert rot.segments(rot.shift_start(1), rot.shift_start(2))[0].hours == 167
    # fall back on Sunday 2026-10-25: the week of Monday 19 October is an hour long
    k = rot.shift_at(utc("2026-10-20T12:00"))
    assert rot.shift_start(k) == utc("2026-10-19T07:00") and rot.shift_start(k + 1) == utc("2026-10-26T08:00")
    assert rot.segments(rot.shift_start(k), rot.shift_start(k + 1))[0].hours == 169


def test_new_york_twelve_hour_shifts_across_both_changes():
    rot = rotation(tz="America/New_York", anchor="2026-03-07T09:00", hours=12)
    ny = ZoneInfo("America/New_York")
    hours = [(s.start.astimezone(ny).hour, s.hours) for s in rot.segments(utc("2026-03-07T14:00"), utc("2026-03-10T01:00"))]
    # 09:00 and 21:00 local throughout; the night of 8 March (clocks 02:00 → 03:00) is 11 hours
    assert hours == [(9, 12), (21, 11), (9, 12), (21, 12), (9, 12)]
    segs = rot.segments(utc("2026-10-31T13:00"), utc("2026-11-02T02:00"))
    assert [(s.start.astimezone(ny).hour, s.hours) for s in segs] == [(9, 12), (21, 13), (9, 12)]


def test_new_york_handoff_inside_the_skipped_hour_is_the_first_instant_after_it():
    rot = rotation(tz="America/New_York", anchor="2026-03-06T02:30", hours=24)
    k = rot.shift_at(utc("2026-03-08T12:00"))
    assert rot.shift_start(k).astimezone(ZoneInfo("America/New_York")).strftime("%d %H:%M %Z") == "08 03:30 EDT"
    with pytest.raises(UsageError, match="does not exist"):
        parse_when("2026-03-08 02:30", ZoneInfo("America/New_York"))


def test_viewers_in_different_zones_see_the_same_instant():
    rot = rotation()
    in_ny = parse_when("2026-12-24 16:00", ZoneInfo("America/New_York"))
    in_berlin = parse_when("2026-12-24 22:00", ZoneInfo("Europe/Berlin"))
    assert in_ny == in_berlin and rot.at(in_ny) == rot.at(in_berlin)


# --- members, swaps, parsing --------------------------------------------------------------

def test_member_removal_hands_future_shifts_to_the_others_and_keeps_the_past():
    rot = rotation(members=("ana", "bo", "chen"))
    before = [rot.holder(k) for k in range(12)]
    epoch = rot.next_epoch(6, ["ana", "chen"])
    after = replace(rot, epochs=rot.epochs + (epoch,))
    assert [after.holder(k) for k in range(6)] == before[:6]
    assert "bo" not in [after.holder(k) for k in range(6, 30)]
    assert before[6] == "ana" and after.holder(6) == "ana"  # whoever was due keeps the shift
    removed_due = rot.next_epoch(7, ["ana", "chen"])  # shift 7 was bo's: the next in line takes it
    assert replace(rot, epochs=rot.epochs + (removed_due,)).holder(7) == "chen"


def test_reorder_and_add_keep_the_next_person():
    rot = rotation(members=("ana", "bo", "chen"))
    after = replace(rot, epochs=rot.epochs + (rot.next_epoch(4, ["chen", "bo", "ana", "dara"]),))
    assert rot.holder(4) == after.holder(4) == "bo"
    assert [after.holder(k) for k in range(4, 9)] == ["bo", "ana", "dara", "chen", "bo"]


def test_swaps_apply_in_order():
    rot = rotation(members=("ana", "bo", "chen"))
    once = replace(rot, swaps=(Swap(0, 1),))
    twice = replace(rot, swaps=(Swap(0, 1), Swap(1, 2)))
    assert [once.holder(k) for k in range(3)] == ["bo", "ana", "chen"]
    assert [twice.holder(k) for k in range(3)] == ["bo", "chen", "ana"]


def test_nobody_before_the_rotation_starts_and_first_shift_on_a_day():
    rot = rotation(anchor="2026-01-05T09:00")
    assert rot.at(utc("2026-01-05T07:59")) is None and rot.at(utc("2026-01-05T08:00")).who == "ana"
    assert rot.first_shift_on(dt.date(2026, 1, 12)) == 1
    assert rot.first_shift_on(dt.date(2026, 1, 14)) == 1  # no shift starts on a Wednesday: the one running


@pytest.mark.parametrize("text,hours", [("12h", 12), ("1d", 24), ("2w", 336), ("3 days", 72)])
def test_lengths(text, hours):
    assert parse_length(text) == hours


@pytest.mark.parametrize("bad", ["", "0h", "1m", "week", "53w"])
def test_bad_lengths_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_length(bad)


def test_handoffs():
    assert parse_handoff("mon 09:00") == (0, dt.time(9))
    assert parse_handoff("Friday 17:30") == (4, dt.time(17, 30))
    assert parse_handoff("21:00") == (None, dt.time(21))
    for bad in ("moon 09:00", "mon 25:00", "noon"):
        with pytest.raises(UsageError):
            parse_handoff(bad)
