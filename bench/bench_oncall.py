"""On-call figures: a year's schedule, a year's report (the slowest on-call reads), and the
hours on call the agents report asks for over a year."""

from __future__ import annotations

import datetime as dt
import time

from bench.figure import Figure
from tui_desk.hours import BusinessHours, parse_business_hours
from tui_desk.oncall.report import Weights, build, hours_on_call
from tui_desk.oncall.schedule import Epoch, Override, Rotation

UTC = dt.timezone.utc
START = dt.datetime(2026, 1, 5, tzinfo=UTC)


def _rotations(overrides: int) -> list[Rotation]:
    people = ("ana", "bo", "chen", "dara", "eli")
    extra = tuple(Override("ana", START + dt.timedelta(days=3 * i), START + dt.timedelta(days=3 * i, hours=5), id=i)
                  for i in range(overrides))
    return [
        Rotation("daily", "Europe/Berlin", dt.datetime(2026, 1, 5, 9), 24, (Epoch(0, people),), overrides=extra),
        Rotation("nights", "America/New_York", dt.datetime(2026, 1, 5, 17), 168, (Epoch(0, people),),
                 only="after-hours"),
    ]


def run(size: str) -> list[Figure]:
    weeks = 52 if size == "full" else 8
    rotations = _rotations(100 if size == "full" else 10)
    end = START + dt.timedelta(weeks=weeks)
    started = time.perf_counter()
    segments = sum(len(r.segments(START, end)) for r in rotations)
    schedule_s = time.perf_counter() - started
    hours = BusinessHours("Europe/Berlin", parse_business_hours(["mon-fri 09:00-17:00"]), frozenset())
    started = time.perf_counter()
    build(rotations, START, end, holidays=frozenset(), weights=Weights(), hours=hours)
    report_s = time.perf_counter() - started
    started = time.perf_counter()
    hours_on_call(rotations, START, end, hours)
    hours_s = time.perf_counter() - started
    return [
        Figure("oncall", f"schedule, {weeks} weeks, 2 rotations ({segments} segments)", f"{schedule_s * 1000:.0f} ms",
               "< 200 ms", schedule_s < 0.2),
        Figure("oncall", f"report, {weeks} weeks, 2 rotations", f"{report_s * 1000:.0f} ms", "< 2,000 ms",
               report_s < 2.0),
        Figure("oncall", f"hours on call (report agents), {weeks} weeks, 2 rotations", f"{hours_s * 1000:.0f} ms",
               "< 200 ms", hours_s < 0.2),
    ]
