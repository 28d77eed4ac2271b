"""`report hours`: when customers write, and what after-hours cover would change.

Counting by local weekday and hour must follow the viewer's timezone exactly (DST,
half-hour zones), so the period is cut into pieces that each lie in one local hour
and on one side of the desk's opening hours; the store counts messages per piece with
one indexed range each, and the pieces add up to the heatmap and the after-hours share.
"""

from __future__ import annotations

import datetime as dt
import json

from ..config import Config
from ..hours import zone
from ..store import Store, stamp
from . import facts
from .period import Filters, Period
from .stats import percentiles, rate

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
OPEN = 168  # slot offset of pieces inside business hours: slot = weekday * 24 + hour (+ OPEN)
STEP = 900  # every real UTC offset is a whole number of quarter hours


def pieces(period: Period, config: Config) -> list[list]:
    """[start stamp, end stamp, slot] covering the period; consecutive pieces of the same
    slot are joined, so a year is about 9,000 pieces."""
    tz = zone(period.timezone)
    since, until = period.since.timestamp(), period.until.timestamp()
    edges = {since, until}
    t = (since // STEP + 1) * STEP
    while t < until:
        edges.add(t)
        t += STEP
    opened = config.desk.hours().open_intervals(period.since, period.until)
    for a, b in opened:
        edges.update((a.timestamp(), b.timestamp()))
    ordered = sorted(edges)
    spans = [(a.timestamp(), b.timestamp()) for a, b in opened]
    out: list[list] = []
    k = 0
    for a, b in zip(ordered, ordered[1:]):
        while k < len(spans) and spans[k][1] <= a:
            k += 1
        inside = k < len(spans) and spans[k][0] <= a < spans[k][1]
        local = dt.datetime.fromtimestamp(a, tz)
        slot = local.weekday() * 24 + local.hour + (OPEN if inside else 0)
        if out and out[-1][2] == slot and out[-1][1] == a:
            out[-1][1] = b
        else:
            out.append([a, b, slot])
    return [[_stamp(a), _stamp(b), slot] for a, b, slot in out]


def _stamp(t: float) -> str:
    return stamp(dt.datetime.fromtimestamp(t, dt.timezone.utc))


def hours(store: Store, config: Config, period: Period, filters: Filters = Filters(),
          what_if_minutes: int | None = None) -> dict:
    """Heatmap of messages from people by local weekday × hour, the share arriving
    outside business hours, and the on-call what-if for first responses."""
    minutes = config.reports.what_if_minutes if what_if_minutes is None else what_if_minutes
    facts.refresh(store, config)  # the filters and the what-if read report_facts
    counts = store.report_inbound_slots(period.scope(filters), json.dumps(pieces(period, config)))
    grid = [[0] * 24 for _ in range(7)]
    inside = 0
    for slot, count in counts.items():
        if slot >= OPEN:
            inside += count
        grid[(slot % OPEN) // 24][slot % 24] += count
    total = sum(counts.values())
    # the busiest hour; on a tie, the earliest in the week
    busiest = max(((grid[d][h], -d, -h) for d in range(7) for h in range(24)), default=(0, 0, 0))
    busiest = (busiest[0], -busiest[1], -busiest[2])
    return {
        "report": "hours",
        "period": period.as_json(),
        "filters": filters.as_json(),
        "messages_in": total,
        "outside_business_hours": {"count": total - inside, "share": rate(total - inside, total)},
        "busiest": {"weekday": WEEKDAYS[busiest[1]], "hour": busiest[2], "messages": busiest[0]} if total else None,
        "heatmap": {"weekdays": WEEKDAYS, "hours": list(range(24)), "counts": grid},
        "what_if": what_if(store, config, period, filters, minutes),
    }


def what_if(store: Store, config: Config, period: Period, filters: Filters, minutes: int) -> dict:
    """First responses as they were, and as they would be had someone on call answered
    every conversation opened outside business hours within `minutes` (when the real
    answer was slower). Only answered conversations opened in the period count."""
    actual, covered, after_hours = store.report_what_if(period.scope(filters), minutes * 60.0)
    return {
        "oncall_minutes": minutes,
        "answered": len(actual),
        "opened_after_hours": after_hours,
        "actual": percentiles(actual),
        "with_oncall": percentiles(covered),
    }
