"""`report templates`: which reply templates close conversations, and which to automate."""

from __future__ import annotations

from ..config import Config
from ..store import Store
from .period import Filters, Period
from .stats import mean, rate


def templates(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Per template used in the period: uses, close rate, satisfaction after use, and
    ready_to_automate (close rate ≥ [rules] automate_min_close_rate over at least
    automate_min_uses uses)."""
    rules = config.rules
    rows = []
    for template, uses, closed, answers, score in store.report_template_uses(period.scope(filters)):
        close_rate = rate(closed, uses)
        rows.append({
            "template": template,
            "uses": uses,
            "closed": closed,
            "close_rate": close_rate,
            "satisfaction": {"answers": answers, "average": mean(score or 0, answers)},
            "ready_to_automate": uses >= rules.automate_min_uses and closed >= rules.automate_min_close_rate * uses,
        })
    rows.sort(key=lambda r: (-r["uses"], str(r["template"])))
    return {
        "report": "templates",
        "period": period.as_json(),
        "filters": filters.as_json(),
        "thresholds": {"min_close_rate": rules.automate_min_close_rate, "min_uses": rules.automate_min_uses},
        "templates": rows,
    }
