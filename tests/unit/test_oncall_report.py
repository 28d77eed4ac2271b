"""The on-call report on a fixture whose figures are worked out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tui_desk.config import from_dict
from tui_desk.oncall.report import Weights, build, hours_on_call, measure
from tui_desk.oncall.schedule import Epoch, Override, Rotation
from tui_desk.oncall.service import Oncall
from tui_desk.oncall.timeparse import UTC

BERLIN = ZoneInfo("Europe/Berlin")
CONFIG = {
    "desk": {"timezone": "Europe/Berlin", "holidays": ["2026-12-24", "2026-12-25", "2026-12-26"],
             "business_hours": ["mon-fri 09:00-17:00"]},
    "agent": {"name": "lead"},
    "oncall": {"comp_days_per_shift": 1.0, "weekend_weight": 1.5, "holiday_weight": 2.0},
}


def berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture
def desk(store):
    desk = Oncall(store, from_dict(CONFIG), now=berlin("2026-12-01T12:00"))
    # two weekly shifts: ana 14–21 Dec (a weekend), bo 21–28 Dec (24–26 Dec are holidays)
    desk.add_rotation("support", "ana,bo", "1w", "mon 09:00", "Europe/Berlin", "2026-12-14")
    desk.add_override("support", "ana", "2026-12-24 18:00", "2026-12-25 18:00", "Europe/Berlin", "bo's family")
    return desk


def _conversation(store, cid: int) -> None:  # raw SQL on purpose: history dated in the past
    store.d.conn.execute("INSERT INTO conversations (id, channel, created_at, last_message_at) VALUES (?, 'mail', ?, ?)",
                         (cid, "2026-12-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"))


def _reply(store, cid: int, author: str, at: str, n: int) -> None:  # raw SQL on purpose: dated in the past
    store.d.conn.execute(
        "INSERT INTO messages (conversation_id, channel, direction, author, external_id, created_at, received_at)"
        " VALUES (?, 'mail', 'out', ?, ?, ?, ?)", (cid, author, f"x{n}", at, at))


def test_report_figures(desk, store):
    for cid in (1, 2, 3, 4):
        _conversation(store, cid)
    _reply(store, 1, "ana", "2026-12-15T10:00:00.000Z", 1)   # ana's shift
    _reply(store, 1, "ana", "2026-12-16T10:00:00.000Z", 2)   # same conversation: counted once
    _reply(store, 2, "ana", "2026-12-22T10:00:00.000Z", 3)   # bo's shift: not ana's on-call work
    _reply(store, 3, "ana", "2026-12-25T10:00:00.000Z", 4)   # during ana's override
    _reply(store, 4, "bo", "2026-12-23T10:00:00.000Z", 5)
    store.d.conn.execute(  # raw SQL on purpose: an event dated in the past
        "INSERT INTO events (conversation_id, kind, actor, at) VALUES (4, 'status', 'bo', ?)",
        ("2026-12-27T10:00:00.000Z",))
    result = desk.report("2026-12-14 09:00", "2026-12-28 09:00", None, "Europe/Berlin")
    people = {p["who"]: p for p in result["people"]}
    assert people["ana"] == {
        "who": "ana", "hours": 192.0, "nights": 72.0, "weekends": 48.0, "holidays": 24.0,
        # 120 weekday + 48 weekend × 1.5 + 24 holiday × 2
        "weighted_hours": 240.0, "shifts": 1, "overrides_taken": 1, "overrides_given": 0,
        "conversations": 2, "comp_days": 1.43,  # 192/168 for her shift + 48/168 for the override
    }
    assert people["bo"] == {
        "who": "bo", "hours": 144.0, "nights": 54.0, "weekends": 48.0, "holidays": 48.0,
        # 72 weekday + 24 Sunday × 1.5 + 48 holiday × 2
        "weighted_hours": 204.0, "shifts": 1, "overrides_taken": 0, "overrides_given": 1,
        "conversations": 1, "comp_days": 1.21,
    }
    fairness = result["rotations"][0]
    assert fairness["spread_hours"] == 36.0 and not fairness["uneven"] and fairness["suggested_next"] is None


def test_uneven_load_suggests_the_least_loaded(desk):
    result = desk.report("2026-12-14 09:00", "2027-01-04 09:00", None, "Europe/Berlin")
    fairness = result["rotations"][0]
    assert fairness["uneven"] and fairness["suggested_next"] == "bo"


def test_after_hours_rotation_counts_only_closed_hours():
    hours = from_dict(CONFIG).desk.hours()
    week = measure(berlin("2026-12-07T09:00"), berlin("2026-12-14T09:00"), BERLIN, hours.holidays, Weights(), hours)
    assert week.hours == 168 - 5 * 8 and week.weekends == 48
    dst = measure(berlin("2026-03-23T09:00"), berlin("2026-03-30T09:00"), BERLIN, frozenset(), Weights())
    assert dst.hours == 167 and dst.nights == 62  # the night of 29 March is an hour short


def test_report_rejects_reversed_window(desk):
    from tui_desk.errors import UsageError
    with pytest.raises(UsageError):
        desk.report("2026-12-20", "2026-12-10", None, None)


def test_holiday_weight_applies_in_the_persons_zone(desk):
    start, end = dt.datetime(2026, 12, 24, 23, 0, tzinfo=UTC), dt.datetime(2026, 12, 25, 1, 0, tzinfo=UTC)
    hols = frozenset({dt.date(2026, 12, 25)})
    tokyo = measure(start, end, ZoneInfo("Asia/Tokyo"), hols, Weights())
    new_york = measure(start, end, ZoneInfo("America/New_York"), hols, Weights())
    assert tokyo.holidays == 2 and new_york.holidays == 0


def test_override_giver_with_no_hours_is_listed_by_both():
    """Regression (Hypothesis): a one-minute window inside bo's override of ana's shift."""
    hours = from_dict(CONFIG).desk.hours()
    rot = Rotation("r", "America/New_York", dt.datetime(2026, 2, 2, 9, 30), 24, (Epoch(0, ("ana", "bo", "chen")),),
                   overrides=(Override("bo", berlin("2026-03-10T20:00"), berlin("2026-03-12T03:15"), 1),))
    since = rot.shift_start(0) + dt.timedelta(minutes=52110)
    until = since + dt.timedelta(minutes=1)
    fast = hours_on_call([rot], since, until, hours)
    report = build([rot], since, until, holidays=hours.holidays, weights=Weights(), hours=hours)
    assert {p["who"]: p["hours"] for p in report["people"]} == {w: round(h, 2) for w, h in fast.items()}
    assert fast.keys() == {"ana", "bo"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 60 * 24 * 60), st.integers(1, 60 * 24 * 21), st.sampled_from(["always", "after-hours"]))
def test_hours_on_call_agree_with_the_report(start_minutes, span_minutes, only):
    """The agents report's on-call hours (prefix sums of open time) are the report's own."""
    hours = from_dict(CONFIG).desk.hours()
    rot = Rotation("r", "America/New_York", dt.datetime(2026, 2, 2, 9, 30), 24, (Epoch(0, ("ana", "bo", "chen")),),
                   only=only, overrides=(Override("bo", berlin("2026-03-10T20:00"), berlin("2026-03-12T03:15"), 1),))
    since = rot.shift_start(0) + dt.timedelta(minutes=start_minutes)
    until = since + dt.timedelta(minutes=span_minutes)
    fast = hours_on_call([rot], since, until, hours)
    report = build([rot], since, until, holidays=hours.holidays, weights=Weights(), hours=hours)
    assert {p["who"]: p["hours"] for p in report["people"]} == {who: round(h, 2) for who, h in fast.items()}
