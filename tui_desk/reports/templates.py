"""`report templates`: which reply templates close conversations, and which to automate.

The outcome of each use (closed, reopened, pending) is the one `tui-desk templates stats`
uses (tui_desk.templates.stats.outcome), so both commands give one close rate.
"""

from __future__ import annotations

from ..config import Config
from ..store import Store, stamp
from ..templates.stats import CLOSE_DAYS, outcome
from . import facts
from .period import Filters, Period
from .satisfaction import by_survey_template, happiness
from .stats import mean, rate


def templates(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Per template used in the period: uses, closed / reopened / pending, close rate
    (closed ÷ decided uses), satisfaction after use, and ready_to_automate (close rate ≥
    [templates] automate_min_close_rate over at least automate_min_uses uses); and per
    survey template, the survey figures (sent, answered, CSAT, happiness)."""
    rules = config.templates
    if filters != Filters():
        facts.refresh(store, config)  # the filters read report_facts
    groups: dict[str, dict] = {}
    now = stamp(period.now)
    for template, at, solved_at, next_out_at, next_in_at, score, deadline in store.report_template_uses(
            period.scope(filters), CLOSE_DAYS):
        use = {"at": at, "solved_at": solved_at, "next_out_at": next_out_at, "next_in_at": next_in_at,
               "deadline": deadline}
        figures = groups.setdefault(template, {"uses": 0, "closed": 0, "reopened": 0, "pending": 0,
                                               "answers": 0, "score": 0, "great": 0, "not_good": 0})
        figures["uses"] += 1
        figures[outcome(use, now, CLOSE_DAYS)] += 1
        if score is not None and 1 <= float(score) <= 5:
            figures["answers"] += 1
            figures["score"] += float(score)
            figures["great"] += float(score) >= 4
            figures["not_good"] += float(score) <= 2
    rows = []
    for template, f in groups.items():
        close_rate = rate(f["closed"], f["closed"] + f["reopened"])
        rows.append({
            "template": template,
            "uses": f["uses"], "closed": f["closed"], "reopened": f["reopened"], "pending": f["pending"],
            "close_rate": close_rate,
            "satisfaction": {"answers": f["answers"], "average": mean(f["score"], f["answers"]),
                             "csat": rate(f["great"], f["answers"]),
                             "happiness": happiness(f["great"], f["not_good"], f["answers"])},
            "ready_to_automate": (f["uses"] >= rules.automate_min_uses and close_rate is not None
                                  and close_rate >= rules.automate_min_close_rate),
        })
    rows.sort(key=lambda r: (-r["uses"], str(r["template"])))
    return {
        "report": "templates",
        "period": period.as_json(),
        "filters": filters.as_json(),
        "thresholds": {"min_close_rate": rules.automate_min_close_rate, "min_uses": rules.automate_min_uses,
                       "close_days": CLOSE_DAYS},
        "templates": rows,
        "surveys": by_survey_template(store, period.scope(filters)),
    }
