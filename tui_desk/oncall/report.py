"""The on-call report: hours, nights, weekends, holidays, overrides, compensation, fairness.

Definitions (also in docs/oncall.md):
- hours: time on call in the window. For an "after-hours" rotation only the time the
  desk is closed counts (business hours and holidays from [desk]).
- nights: hours between 22:00 and 07:00; weekends: Saturday and Sunday; holidays: the
  [desk] holidays. All three in the person's own zone (roster `timezone`), else the
  rotation's zone.
- weighted hours: holiday hours × holiday_weight, other weekend hours × weekend_weight,
  every other hour × 1.
- compensation days: each piece of a shift earns comp_days_per_shift × its weighted hours
  ÷ the plain hours of the whole shift, so a full weekday-only shift earns exactly
  comp_days_per_shift and weekend or holiday time earns more.
- suggested next: when, among a rotation's members, the most loaded person has more than
  half a shift of weighted hours over the least loaded, the least loaded is suggested.

Pure: the caller passes the rotations and a function counting conversations handled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..hours import BusinessClock, BusinessHours
from ..store.stamps import stamp
from .schedule import Rotation
from .timeparse import UTC

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Weights:
    """Compensation settings from [oncall]."""

    comp_days_per_shift: float = 1.0
    weekend: float = 1.5
    holiday: float = 2.0


@dataclass
class Measure:
    """Hours of one interval, by kind."""

    hours: float = 0.0
    nights: float = 0.0
    weekends: float = 0.0
    holidays: float = 0.0
    weighted: float = 0.0

    def add(self, other: "Measure") -> None:
        for name in ("hours", "nights", "weekends", "holidays", "weighted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _marks(start: dt.datetime, end: dt.datetime, tz: ZoneInfo, minutes: set[int] | None = None) -> set[dt.datetime]:
    """Every whole local hour (and given extra minutes) of `tz` in [start, end], both
    readings of ambiguous and skipped times: where kinds of hours can change."""
    out = set()
    local = start.astimezone(tz).replace(tzinfo=None, minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)
    stop = end.astimezone(tz).replace(tzinfo=None) + dt.timedelta(hours=2)
    offsets = sorted({0} | (minutes or set()))
    while local <= stop:
        for minute in offsets:
            naive = local + dt.timedelta(minutes=minute)
            for fold in (0, 1):
                instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
                if start < instant < end:
                    out.add(instant)
        local += dt.timedelta(hours=1)
    return out


def measure(start: dt.datetime, end: dt.datetime, tz: ZoneInfo, holidays: frozenset[dt.date],
            weights: Weights, closed_only: BusinessHours | None = None) -> Measure:
    """Classify [start, end) hour by hour: cut it where any kind can change, classify
    each piece by its midpoint (DST-safe: pieces are real elapsed time)."""
    cuts = _marks(start, end, tz)
    if closed_only is not None:
        edge_minutes = {t.minute for _, o, c in closed_only.windows for t in (o, c)}
        cuts |= _marks(start, end, closed_only.tz, edge_minutes)
    points = [start, *sorted(cuts), end]
    m = Measure()
    for a, b in zip(points, points[1:]):
        if b <= a:
            continue
        mid = a + (b - a) / 2
        if closed_only is not None and closed_only.is_open(mid):
            continue
        hours = (b - a).total_seconds() / 3600
        local = mid.astimezone(tz)
        holiday = local.date() in holidays
        weekend = local.weekday() >= 5
        m.hours += hours
        m.nights += hours if (local.hour >= 22 or local.hour < 7) else 0.0
        m.weekends += hours if weekend else 0.0
        m.holidays += hours if holiday else 0.0
        m.weighted += hours * (weights.holiday if holiday else weights.weekend if weekend else 1.0)
    return m


@dataclass
class PersonReport:
    """One person's figures over the window."""

    who: str
    total: Measure = field(default_factory=Measure)
    shifts: set = field(default_factory=set)
    taken: set = field(default_factory=set)
    given: set = field(default_factory=set)
    comp_days: float = 0.0
    intervals: list[Interval] = field(default_factory=list)

    def as_dict(self, conversations: int) -> dict:
        r = lambda x: round(x, 2)  # noqa: E731 - figures for people, not for arithmetic
        return {
            "who": self.who, "hours": r(self.total.hours), "nights": r(self.total.nights),
            "weekends": r(self.total.weekends), "holidays": r(self.total.holidays),
            "weighted_hours": r(self.total.weighted), "shifts": len(self.shifts),
            "overrides_taken": len(self.taken), "overrides_given": len(self.given),
            "conversations": conversations, "comp_days": r(self.comp_days),
        }


def build(rotations: list[Rotation], since: dt.datetime, until: dt.datetime, *,
          holidays: frozenset[dt.date], weights: Weights, hours: BusinessHours | None = None,
          person_tz: dict[str, str] | None = None,
          conversations: Callable[[str, list[Interval]], int] | None = None) -> dict:
    """The report over [since, until) for `rotations` (JSON-ready)."""
    person_tz = person_tz or {}
    people: dict[str, PersonReport] = {}
    fairness = []
    for rot in rotations:
        closed = hours if rot.only == "after-hours" else None
        plain: dict[int, float] = {}
        loads: dict[str, float] = {m: 0.0 for m in rot.members}
        for seg in rot.segments(since, until):
            tz = ZoneInfo(person_tz.get(seg.who) or rot.timezone)
            m = measure(seg.start, seg.end, tz, holidays, weights, closed)
            if seg.shift not in plain:
                a, b = rot.shift_start(seg.shift), rot.shift_start(seg.shift + 1)
                # most segments are whole shifts: measure a shift again only when it was cut
                whole = seg.start == a and seg.end == b
                plain[seg.shift] = m.hours if whole else measure(a, b, tz, holidays, weights, closed).hours
            p = people.setdefault(seg.who, PersonReport(seg.who))
            p.total.add(m)
            p.intervals.append((seg.start, seg.end))
            if plain[seg.shift] > 0:
                p.comp_days += weights.comp_days_per_shift * m.weighted / plain[seg.shift]
            if seg.override is None:
                p.shifts.add((rot.name, seg.shift))
            else:
                p.taken.add(seg.override)
                if seg.base != seg.who:
                    people.setdefault(seg.base, PersonReport(seg.base)).given.add(seg.override)
            loads[seg.who] = loads.get(seg.who, 0.0) + m.weighted
        fairness.append(_fairness(rot, loads))
    count = conversations or (lambda who, intervals: 0)
    return {
        "since": stamp(since), "until": stamp(until),
        "people": [people[w].as_dict(count(w, people[w].intervals)) for w in sorted(people)],
        "rotations": fairness,
    }


def hours_on_call(rotations: list[Rotation], since: dt.datetime, until: dt.datetime,
                  hours: BusinessHours | None = None) -> dict[str, float]:
    """Hours each person was on call over [since, until), as the report's `hours` counts
    them (for an "after-hours" rotation only the time the desk is closed, by `hours`).
    Open time comes from one BusinessClock (prefix sums), not hour by hour as in
    `measure`: this runs inside `report agents`, over periods of a year."""
    out: dict[str, float] = {}
    clock = BusinessClock(hours, since, until) if hours is not None else None
    for rot in rotations:
        closed_only = clock is not None and rot.only == "after-hours"
        for seg in rot.segments(since, until):
            taken = seg.hours
            if closed_only:
                taken -= clock.between(seg.start.timestamp(), seg.end.timestamp()) / 3600
            out[seg.who] = out.get(seg.who, 0.0) + taken
            if seg.override is not None and seg.base != seg.who:
                # the report lists whoever gave an override, with their hours (maybe 0.0)
                out.setdefault(seg.base, 0.0)
    return out


def _fairness(rot: Rotation, loads: dict[str, float]) -> dict:
    members = list(rot.members)
    current = {m: loads.get(m, 0.0) for m in members}
    spread = (max(current.values()) - min(current.values())) if current else 0.0
    uneven = spread > rot.length_hours / 2
    # least loaded first; ties go to the member order
    suggested = min(members, key=lambda m: (current[m], members.index(m))) if uneven else None
    return {"rotation": rot.name, "weighted_hours": {m: round(v, 2) for m, v in current.items()},
            "spread_hours": round(spread, 2), "uneven": uneven, "suggested_next": suggested}
