"""`report summary`, `report channels` and `report agents`: the desk's clocks and counts.

Everything per conversation (its instants, its first response and resolution times in
calendar and business seconds) is worked out once and kept in report_facts
(reports/facts.py); a report refreshes what changed since the last one, then asks the
store for SQL aggregates over those rows: counts, SLA breaches and per-day volumes in
SQL, the durations packed for the medians and p90s computed here.
"""

from __future__ import annotations

import datetime as dt

from ..config import Config
from ..hours import zone
from ..store import ReportScope, Store
from ..store.reports import Clocks
from . import facts, satisfaction as sat
from .period import Filters, Period
from .stats import percentiles, rate, seconds

EMPTY = Clocks()


def first_response(c: Clocks) -> dict:
    """First-response figures of the conversations opened in the period."""
    return {"answered": len(c.wait), "unanswered": c.unanswered,
            "calendar": percentiles(c.wait), "business": percentiles(c.wait_open)}


def resolution(c: Clocks) -> dict:
    return {"solved": c.solved, "calendar": percentiles(c.resolve), "business": percentiles(c.resolve_open)}


def satisfaction(counts: tuple | None) -> dict:
    """Survey figures of one group (reports/satisfaction.py)."""
    return sat.figures(counts)


def sla(store: Store, config: Config, period: Period, scope: ReportScope) -> dict:
    """First responses slower than their priority's target, among the conversations
    opened in the period; one still unanswered has waited up to the end of the period
    (or now, if earlier)."""
    targets = config.reports.sla_first_response_hours
    business = config.reports.sla_clock == "business"
    end = period.end.timestamp()
    counts = store.report_sla(scope, {p: hours * 3600 for p, hours in targets.items()}, business,
                              end, facts.reading(store, config, end) if business else 0)
    out = {p: dict(zip(("checked", "breached"), counts.get(p, (0, 0)))) for p in targets}
    total, late = sum(r["checked"] for r in out.values()), sum(r["breached"] for r in out.values())
    return {"clock": config.reports.sla_clock, "targets_hours": dict(targets), "checked": total,
            "breached": late, "rate": rate(late, total), "by_priority": out}


def trend(store: Store, period: Period, scope: ReportScope) -> dict:
    """Opened and solved per local day (periods up to 62 days) or per week starting Monday."""
    tz = zone(period.timezone)
    weekly = period.until - period.since > dt.timedelta(days=62)
    first = period.since.astimezone(tz).date()
    last = (period.until - dt.timedelta(microseconds=1)).astimezone(tz).date()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    # each local day from its midnight to the next (23 or 25 hours when the clocks change)
    midnights = [dt.datetime.combine(day, dt.time(0), tz).timestamp() for day in [*days, last + dt.timedelta(days=1)]]
    spans = [(max(a, period.since.timestamp()), min(b, period.until.timestamp())) for a, b in zip(midnights, midnights[1:])]
    counts = store.report_per_day(scope, spans)
    rows: dict[dt.date, list[int]] = {}
    for day, opened, solved in zip(days, counts["opened"], counts["solved"]):
        row = rows.setdefault(day - dt.timedelta(days=day.weekday()) if weekly else day, [0, 0])
        row[0] += opened
        row[1] += solved
    return {"bucket": "week" if weekly else "day",
            "rows": [{"start": day.isoformat(), "opened": o, "solved": s} for day, (o, s) in sorted(rows.items())]}


def _head(report: str, period: Period, filters: Filters) -> dict:
    return {"report": report, "period": period.as_json(), "filters": filters.as_json()}


def summary(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """The period's headline figures; each is defined in docs/reports.md."""
    scope = period.scope(filters)
    facts.refresh(store, config)
    c = store.report_clocks(scope).get(None, EMPTY)
    return {
        **_head("summary", period, filters),
        "opened": c.opened,
        "solved": c.solved,
        "backlog": store.report_backlog_count(scope),
        "customers": store.report_customers_in(scope),
        "first_response": first_response(c),
        "resolution": resolution(c),
        "one_touch": {"count": c.one_touch, "rate": rate(c.one_touch, c.solved)},
        "reopened": {"count": c.reopened, "rate": rate(c.reopened, c.solved)},
        "satisfaction": satisfaction(store.report_satisfaction(scope).get(None)),
        "satisfaction_weeks": sat.weekly(store, period, scope),
        "sla": sla(store, config, period, scope),
        "trend": trend(store, period, scope),
    }


def channels(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Volume and response times per channel."""
    scope = period.scope(filters)
    facts.refresh(store, config)
    groups = store.report_clocks(scope, by="channel")
    inbound = store.report_inbound_by_channel(scope)
    surveys = store.report_satisfaction(scope, by="channel")
    names = sorted(set(groups) | set(inbound) | {n for n in surveys if n},
                   key=lambda n: (-groups.get(n, EMPTY).opened, n))
    rows = [{
        "channel": name,
        "opened": groups.get(name, EMPTY).opened,
        "messages_in": inbound.get(name, 0),
        "solved": groups.get(name, EMPTY).solved,
        "first_response": first_response(groups.get(name, EMPTY)),
        "resolution": resolution(groups.get(name, EMPTY)),
        "satisfaction": satisfaction(surveys.get(name)),
    } for name in names]
    return {**_head("channels", period, filters), "channels": rows}


def agents(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Per agent: replies written, conversations solved (as assignee), median first
    response (of the first replies they wrote), satisfaction (as assignee), on-call hours."""
    scope = period.scope(filters)
    replies = store.report_replies_by_author(scope)
    facts.refresh(store, config)
    solved = store.report_solved_by(scope, "assignee")
    # the first responses each agent wrote (a group per first replier; None: unanswered)
    by_author = store.report_clocks(scope, by="first_reply_by", solved=False)
    sat = store.report_satisfaction(scope, by="assignee")
    names = {n for n in set(replies) | set(solved) | set(by_author) | set(sat) if n}
    oncall = _oncall_hours(store, config, period, names)
    if filters.agent is not None:
        names &= {filters.agent}
    rows = []
    for name in sorted(names, key=lambda n: (-replies.get(n, 0), n)):
        found = by_author.get(name, EMPTY)
        rows.append({
            "agent": name,
            "replies": replies.get(name, 0),
            "solved": solved.get(name, 0),
            "first_responses": len(found.wait),
            "first_response_median": {"calendar": percentiles(found.wait)["median"],
                                      "business": percentiles(found.wait_open)["median"]},
            "satisfaction": satisfaction(sat.get(name)),
            "oncall_hours": None if oncall is None else seconds(round(oncall.get(name, 0.0), 2)),
        })
    return {**_head("agents", period, filters), "agents": rows}


def _oncall_hours(store: Store, config: Config, period: Period, names: set[str]) -> dict[str, float] | None:
    """Hours each agent was on call in the period (up to now), from the on-call schedule;
    None while the desk has no rotation. A person counts as the agent named by their
    roster id or their roster name (as in `oncall report`); a person on call without a
    row in `names` is added to it, so carrying the phone shows even on a quiet week."""
    from ..oncall.service import Oncall  # only this report needs the rotation arithmetic
    desk = Oncall(store, config, now=period.now)
    by_person = desk.hours(period.since, period.end)
    if by_person is None:
        return None
    by_name: dict[str, float] = {}
    for who, hours in sorted(by_person.items()):
        name = desk.display_name(who)
        by_name[who] = by_name.get(who, 0.0) + hours
        if name != who:
            by_name[name] = by_name.get(name, 0.0) + hours
        if hours > 0 and who not in names and name not in names:
            names.add(who)
    return by_name
