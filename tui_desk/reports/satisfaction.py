"""Satisfaction figures (docs/reports.md, "Satisfaction"): CSAT, happiness, response rate.

From the `satisfaction` and `survey_sent` events the store counts per group: answers,
their score sum, how many were great (4–5) and not good (1–2), surveys sent and answered.
"""

from __future__ import annotations

import datetime as dt
import json

from ..hours import zone
from ..store import ReportScope, Store, stamp
from .period import Period
from .stats import mean, rate


def figures(counts: tuple | None) -> dict:
    """The figures of one group (the same shape in every report)."""
    answers, total, great, not_good, sent, answered = counts or (0, 0, 0, 0, 0, 0)
    return {"answers": answers, "average": mean(total, answers), "csat": rate(great, answers),
            "happiness": happiness(great, not_good, answers), "surveys_sent": sent,
            "surveys_answered": answered, "response_rate": rate(answered, sent)}


def happiness(great: int, not_good: int, answers: int) -> float | None:
    """Help Scout's happiness score: % great − % not good, from −100 to 100 (one decimal)."""
    return round(100 * (great - not_good) / answers, 1) if answers else None


def weekly(store: Store, period: Period, scope: ReportScope) -> list[dict]:
    """The figures per local week (Monday to Monday in the report's zone) of the period."""
    tz = zone(period.timezone)
    first = period.since.astimezone(tz).date()
    monday = first - dt.timedelta(days=first.weekday())
    spans: list[tuple[dt.date, dt.datetime, dt.datetime]] = []
    while True:
        start = max(dt.datetime.combine(monday, dt.time(0), tz), period.since)
        end = min(dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tz), period.until)
        if start >= period.until:
            break
        spans.append((monday, start, end))
        monday += dt.timedelta(days=7)
    weeks = json.dumps([[stamp(start), stamp(end)] for _, start, end in spans])
    counts = store.report_satisfaction(scope, by="week", weeks=weeks)
    return [{"week": day.isoformat(), **figures(counts.get(i))} for i, (day, _, _) in enumerate(spans)]


def by_survey_template(store: Store, scope: ReportScope) -> list[dict]:
    """The figures per survey template (which wording gets answers), most sent first."""
    counts = store.report_satisfaction(scope, by="template")
    rows = [{"template": name, **figures(c)} for name, c in counts.items()]
    rows.sort(key=lambda r: (-r["surveys_sent"], str(r["template"])))
    return rows
