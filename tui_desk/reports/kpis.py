"""`report summary`, `report channels` and `report agents`: the desk's clocks and counts.

Counts are SQL aggregates. The clocks (first response, resolution) come from the store
as packed lists of start and stop instants per group; here they become calendar and
business durations and their percentiles. Per conversation that is two binary searches
in a `BusinessClock`, so 200,000 conversations stay well under a second.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import operator
from collections import Counter
from dataclasses import dataclass

from ..config import Config
from ..hours import BusinessClock, zone
from ..store import Store
from ..store.reports import Clocks
from .period import Filters, Period
from .stats import mean, percentiles, rate, seconds

Lists = tuple[list[float], list[float]]  # starts, stops (epoch seconds), in step
EMPTY = Clocks(0, 0, 0, 0, [], [], [], [])


def firsts(c: Clocks) -> Lists:
    return c.opened_at, c.first_reply_at


def solves(c: Clocks) -> Lists:
    return c.solved_created_at, c.solved_at


@dataclass
class Durations:
    """One clock's durations, in calendar seconds and in business seconds."""

    calendar: list[float]
    business: list[float]

    def figures(self) -> dict:
        return {"calendar": percentiles(self.calendar), "business": percentiles(self.business)}


def make_clock(config: Config, period: Period, groups: dict[object, Clocks]) -> BusinessClock:
    """A business clock spanning the period and every instant in `groups`."""
    low, high = period.since.timestamp(), max(period.until.timestamp(), period.now.timestamp())
    for c in groups.values():
        low = min(low, min(c.solved_created_at, default=low))
        high = max(high, max(c.first_reply_at, default=high))
    utc = dt.timezone.utc
    return BusinessClock(config.desk.hours(), dt.datetime.fromtimestamp(low - 1, utc),
                         dt.datetime.fromtimestamp(high + 1, utc))


def durations(lists: Lists, clock: BusinessClock) -> Durations:
    """Durations of the pairs whose stop is set (a first reply of -1 means unanswered);
    a stop before its start (clock skew between channels) counts as no time. Built
    with map() over whole lists: this runs for every conversation of the period."""
    starts, stops = lists
    if stops and min(stops) < 0:
        keep = [b >= 0 for b in stops]
        starts, stops = list(itertools.compress(starts, keep)), list(itertools.compress(stops, keep))
    stops = list(map(max, starts, stops))
    return Durations(list(map(operator.sub, stops, starts)),
                     list(map(operator.sub, clock.elapsed_many(stops), clock.elapsed_many(starts))))


def joined(groups: dict[object, Clocks]) -> Clocks:
    """All groups as one."""
    total = Clocks(0, 0, 0, 0, [], [], [], [])
    for c in groups.values():
        total.opened += c.opened
        total.solved += c.solved
        total.one_touch += c.one_touch
        total.reopened += c.reopened
        total.opened_at += c.opened_at
        total.first_reply_at += c.first_reply_at
        total.solved_created_at += c.solved_created_at
        total.solved_at += c.solved_at
    return total


def first_response(lists: Lists, clock: BusinessClock, found: Durations | None = None) -> dict:
    """First-response figures of conversations opened in the period (`found`: their
    durations, when already computed)."""
    found = found or durations(lists, clock)
    return {"answered": len(found.calendar), "unanswered": len(lists[0]) - len(found.calendar), **found.figures()}


def resolution(lists: Lists, clock: BusinessClock) -> dict:
    return {"solved": len(lists[0]), **durations(lists, clock).figures()}


def satisfaction(figures: tuple | None) -> dict:
    answers, total, sent, answered = figures or (0, 0, 0, 0)
    return {"answers": answers, "average": mean(total, answers), "surveys_sent": sent,
            "surveys_answered": answered, "response_rate": rate(answered, sent)}


def sla(priorities: list[str], waited: Durations, config: Config) -> dict:
    """First responses slower than their priority's target. `waited` holds, in step with
    `priorities`, each opened conversation's first response time, or for one still
    unanswered the time it has waited up to the end of the period (or now, if earlier)."""
    targets = config.reports.sla_first_response_hours
    taken = waited.business if config.reports.sla_clock == "business" else waited.calendar
    limits = [targets.get(p, math.inf) * 3600 for p in priorities]
    checked = Counter(p for p in priorities if p in targets)
    breached = Counter(itertools.compress(priorities, map(operator.gt, taken, limits)))
    out = {p: {"checked": checked.get(p, 0), "breached": breached.get(p, 0)} for p in targets}
    total, over = sum(checked.values()), sum(breached.values())
    return {"clock": config.reports.sla_clock, "targets_hours": dict(targets), "checked": total,
            "breached": over, "rate": rate(over, total), "by_priority": out}


def trend(period: Period, all_: Clocks) -> dict:
    """Opened and solved per local day (periods up to 62 days) or per week starting Monday."""
    tz = zone(period.timezone)
    weekly = period.until - period.since > dt.timedelta(days=62)

    def bucket(day: dt.date) -> dt.date:
        return day - dt.timedelta(days=day.weekday()) if weekly else day

    first = period.since.astimezone(tz).date()
    last = (period.until - dt.timedelta(microseconds=1)).astimezone(tz).date()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    rows = {bucket(day): [0, 0] for day in days}
    # which local day each instant falls on: a binary search among the local midnights
    midnights = [dt.datetime.combine(day, dt.time(0), tz).timestamp() for day in days]
    for column, instants in ((0, all_.opened_at), (1, all_.solved_at)):
        ordered = sorted(instants)
        cuts = [bisect.bisect_left(ordered, m) for m in midnights] + [len(ordered)]
        for day, a, b in zip(days, cuts, cuts[1:]):
            rows[bucket(day)][column] += b - a
    return {"bucket": "week" if weekly else "day",
            "rows": [{"start": day.isoformat(), "opened": o, "solved": s} for day, (o, s) in sorted(rows.items())]}


def _head(report: str, period: Period, filters: Filters) -> dict:
    return {"report": report, "period": period.as_json(), "filters": filters.as_json()}


def summary(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """The period's headline figures; each is defined in docs/reports.md."""
    scope = period.scope(filters)
    groups = store.report_conversations(scope, by="priority", split=False)
    clock = make_clock(config, period, groups)
    total = groups.get(None, EMPTY)
    # one pass of the clock over every opened conversation: the unanswered ones wait until
    # the end of the period (for the SLA), the answered ones give the first response times
    end = period.end.timestamp()
    answered_mask = [b >= 0 for b in total.first_reply_at]
    waited = durations((total.opened_at, [b if b >= 0 else max(end, a) for a, b in zip(
        total.opened_at, total.first_reply_at)]), clock)
    answered = Durations(list(itertools.compress(waited.calendar, answered_mask)),
                         list(itertools.compress(waited.business, answered_mask)))
    return {
        **_head("summary", period, filters),
        "opened": total.opened,
        "solved": total.solved,
        "backlog": store.report_backlog_count(scope),
        "first_response": first_response(firsts(total), clock, answered),
        "resolution": resolution(solves(total), clock),
        "one_touch": {"count": total.one_touch, "rate": rate(total.one_touch, total.solved)},
        "reopened": {"count": total.reopened, "rate": rate(total.reopened, total.solved)},
        "satisfaction": satisfaction(store.report_satisfaction(scope).get(None)),
        "sla": sla(total.opened_keys or [], waited, config),
        "trend": trend(period, total),
    }


def channels(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Volume and response times per channel."""
    scope = period.scope(filters)
    groups = store.report_conversations(scope, by="channel")
    inbound = store.report_inbound_by_channel(scope)
    clock = make_clock(config, period, groups)
    names = sorted(set(groups) | set(inbound), key=lambda n: (-groups.get(n, EMPTY).opened, n))
    rows = [{
        "channel": name,
        "opened": groups.get(name, EMPTY).opened,
        "messages_in": inbound.get(name, 0),
        "solved": groups.get(name, EMPTY).solved,
        "first_response": first_response(firsts(groups.get(name, EMPTY)), clock),
        "resolution": resolution(solves(groups.get(name, EMPTY)), clock),
    } for name in names]
    return {**_head("channels", period, filters), "channels": rows}


def agents(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Per agent: replies written, conversations solved (as assignee), median first
    response (of the first replies they wrote), satisfaction (as assignee), on-call hours."""
    scope = period.scope(filters)
    replies = store.report_replies_by_author(scope)
    solved = store.report_solved_by(scope, "assignee")
    by_author = store.report_conversations(scope, by="first_reply_by", solved=False)
    sat = store.report_satisfaction(scope, by="assignee")
    clock = make_clock(config, period, by_author)
    names = {n for n in set(replies) | set(solved) | set(by_author) | set(sat) if n}
    oncall = _oncall_hours(store, config, period, names)
    if filters.agent is not None:
        names &= {filters.agent}
    rows = []
    for name in sorted(names, key=lambda n: (-replies.get(n, 0), n)):
        found = durations(firsts(by_author.get(name, EMPTY)), clock)
        rows.append({
            "agent": name,
            "replies": replies.get(name, 0),
            "solved": solved.get(name, 0),
            "first_responses": len(found.calendar),
            "first_response_median": {"calendar": percentiles(found.calendar)["median"],
                                      "business": percentiles(found.business)["median"]},
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
