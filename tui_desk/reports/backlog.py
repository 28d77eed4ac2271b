"""`report backlog`: what is still open at the end of the period, by age and status,
and the customers who have waited longest for an answer."""

from __future__ import annotations

from ..config import Config
from ..store import Store, parse_stamp
from ..store.reports import OPEN_STATUSES
from .period import Filters, Period
from .stats import seconds

EDGES_DAYS = [1, 3, 7, 30]
BUCKETS = ["< 1 day", "1-3 days", "3-7 days", "7-30 days", ">= 30 days"]


def backlog(store: Store, config: Config, period: Period, filters: Filters = Filters(), limit: int = 10) -> dict:
    """Backlog conversations by age (end of period − created) and status, and the
    `limit` longest-waiting customers (their latest message still unanswered)."""
    scope = period.scope(filters)
    grid = {bucket: {status: 0 for status in OPEN_STATUSES} for bucket in BUCKETS}
    for status, bucket, count in store.report_backlog_buckets(scope, EDGES_DAYS):
        grid[BUCKETS[bucket]][status] += count
    end = period.end
    waiting = [{
        "conversation": r["id"],
        "customer": r["customer_name"] or r["customer_address"] or "",
        "subject": r["subject"],
        "channel": r["channel"],
        "status": r["status"] if r["status"] in OPEN_STATUSES else "open",
        "assignee": r["assignee"],
        "priority": r["priority"],
        "waiting_since": r["last_inbound_at"],
        "waiting_seconds": seconds(max(0.0, (end - parse_stamp(r["last_inbound_at"])).total_seconds())),
    } for r in store.report_waiting(scope, limit)]
    return {
        "report": "backlog",
        "period": period.as_json(),
        "filters": filters.as_json(),
        "total": sum(sum(row.values()) for row in grid.values()),
        "by_age": [{"age": bucket, **row, "total": sum(row.values())} for bucket, row in grid.items()],
        "waiting_longest": waiting,
    }
