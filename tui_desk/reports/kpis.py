"""`report summary`, `report channels` and `report agents`: the desk's clocks and counts.

Counts are SQL aggregates. The clocks (first response, resolution) come from the store
as packed lists of instants, one entry per conversation (`Facts`); `measure()` turns
them into calendar and business durations in one go: the business clock runs once per
instant (the creation instant serves both clocks), in C-level maps over whole lists, and
groups (per channel, per agent) are cut from the measured lists afterwards.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import operator
from collections import Counter
from dataclasses import dataclass
from itertools import compress, repeat
from operator import and_, sub

from ..config import Config
from ..hours import BusinessClock, zone
from ..store import Store
from ..store.reports import ONE_TOUCH, OPENED, REOPENED, SOLVED, Facts
from .period import Filters, Period
from .stats import mean, percentiles, rate, seconds


@dataclass
class Durations:
    """One clock's durations, in calendar seconds and in business seconds."""

    calendar: list[float]
    business: list[float]

    def figures(self) -> dict:
        return {"calendar": percentiles(self.calendar), "business": percentiles(self.business)}

    def only(self, mask: list) -> "Durations":
        return Durations(list(compress(self.calendar, mask)), list(compress(self.business, mask)))


@dataclass
class Measured:
    """The period's conversations with both clocks measured (lists in step per part).

    Opened in the period: `waited` runs from creation to the first agent reply, or for
    one still unanswered to the end of the period (or now, if earlier): the SLA counts
    that wait; `answered` says which are real first responses. Solved in the period:
    `resolution` from creation to solved_at, `flags` (ONE_TOUCH, REOPENED bits)."""

    opened_keys: list
    opened_at: list[float]
    answered: list[bool]
    waited: Durations
    solved_keys: list
    solved_at: list[float]
    resolution: Durations
    flags: list[int]

    @property
    def opened(self) -> int:
        return len(self.opened_at)

    @property
    def solved(self) -> int:
        return len(self.solved_at)

    def first_responses(self) -> Durations:
        return self.waited.only(self.answered)

    def count(self, bit: int) -> int:
        return sum(map(and_, self.flags, repeat(bit))) // bit

    def split(self) -> dict[object, "Measured"]:
        """One Measured per group key."""
        opened = split_by(self.opened_keys, self.opened_at, self.answered, self.waited.calendar,
                          self.waited.business)
        solved = split_by(self.solved_keys, self.solved_at, self.resolution.calendar,
                          self.resolution.business, self.flags)
        out = {}
        for key in {*opened, *solved}:
            at, answered, w_cal, w_bus = opened.get(key, ([], [], [], []))
            s_at, r_cal, r_bus, flags = solved.get(key, ([], [], [], []))
            out[key] = Measured([key] * len(at), at, answered, Durations(w_cal, w_bus),
                                [key] * len(s_at), s_at, Durations(r_cal, r_bus), flags)
        return out


EMPTY = Measured([], [], [], Durations([], []), [], [], Durations([], []), [])


def make_clock(config: Config, period: Period, facts: Facts) -> BusinessClock:
    """A business clock spanning the period and every instant in `facts`."""
    low = min(period.since.timestamp(), min(facts.created, default=math.inf))
    high = max(period.until.timestamp(), period.now.timestamp(),
               max(facts.first_reply, default=-math.inf), max(facts.solved, default=-math.inf))
    utc = dt.timezone.utc
    # whole seconds at both ends, so every interval boundary is a whole second (see BusinessClock)
    return BusinessClock(config.desk.hours(), dt.datetime.fromtimestamp(math.floor(low) - 1, utc),
                         dt.datetime.fromtimestamp(math.ceil(high) + 1, utc))


def measure(config: Config, period: Period, facts: Facts) -> Measured:
    """Both clocks of every conversation in `facts`, calendar and business.

    A stop before its start (clock skew between channels) counts as no time. Every step
    is a map() over whole lists: this runs for each conversation of the period."""
    clock = make_clock(config, period, facts)
    elapsed = clock.elapsed_many
    keys = facts.keys if facts.keys is not None else [None] * len(facts.created)
    at_created = elapsed(facts.created)
    # opened in the period: until the first reply, or (unanswered, -1) the end of the period
    is_opened = list(map(and_, facts.flags, repeat(OPENED)))
    starts, business_starts = list(compress(facts.created, is_opened)), list(compress(at_created, is_opened))
    replies = list(compress(facts.first_reply, is_opened))
    unanswered = list(map(operator.lt, replies, repeat(0)))
    end = period.end.timestamp()
    for i in compress(range(len(replies)), unanswered):  # usually few: a loop over those alone
        replies[i] = end
    stops = _not_before(starts, replies)
    waited = Durations(list(map(sub, stops, starts)), list(map(sub, elapsed(stops), business_starts)))
    # solved in the period: until solved_at
    is_solved = list(map(and_, facts.flags, repeat(SOLVED)))
    solved_starts, solved_business = list(compress(facts.created, is_solved)), list(compress(at_created, is_solved))
    solved_at = list(compress(facts.solved, is_solved))
    solved_stops = _not_before(solved_starts, solved_at)
    resolution = Durations(list(map(sub, solved_stops, solved_starts)),
                           list(map(sub, elapsed(solved_stops), solved_business)))
    return Measured(list(compress(keys, is_opened)), starts, list(map(operator.not_, unanswered)), waited,
                    list(compress(keys, is_solved)), solved_at, resolution, list(compress(facts.flags, is_solved)))


def _not_before(starts: list, stops: list) -> list:
    """`stops`, each at least its start: a stop before its start (clock skew between
    channels) counts as no time. Checked first, as that is rare."""
    if min(map(sub, stops, starts), default=0) >= 0:
        return stops
    return list(map(max, starts, stops))


def split_by(keys: list, *lists: list) -> dict[object, tuple[list, ...]]:
    """Lists in step, split by the key of each position. For the usual handful of keys
    (priorities, channels, agents) one C-level mask per key beats a Python loop."""
    distinct = set(keys)
    if len(distinct) <= 12:
        out = {}
        for k in distinct:
            mask = list(map(operator.eq, keys, repeat(k)))
            out[k] = tuple(list(compress(values, mask)) for values in lists)
        return out
    positions: dict[object, list[int]] = {}
    for i, k in enumerate(keys):
        positions.setdefault(k, []).append(i)
    return {k: tuple(list(map(values.__getitem__, where)) for values in lists) for k, where in positions.items()}


def first_response(m: Measured) -> dict:
    """First-response figures of the conversations opened in the period."""
    found = m.first_responses()
    return {"answered": len(found.calendar), "unanswered": m.opened - len(found.calendar), **found.figures()}


def resolution(m: Measured) -> dict:
    return {"solved": m.solved, **m.resolution.figures()}


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
    limits = {p: hours * 3600 for p, hours in targets.items()}
    over = map(operator.gt, taken, map(limits.get, priorities, repeat(math.inf)))
    checked, breached = Counter(priorities), Counter(compress(priorities, over))
    out = {p: {"checked": checked.get(p, 0), "breached": breached.get(p, 0)} for p in targets}
    total, late = sum(r["checked"] for r in out.values()), sum(r["breached"] for r in out.values())
    return {"clock": config.reports.sla_clock, "targets_hours": dict(targets), "checked": total,
            "breached": late, "rate": rate(late, total), "by_priority": out}


def trend(period: Period, opened_at: list[float], solved_at: list[float]) -> dict:
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
    # (whole seconds as ints, like the instants: int-to-int comparisons are the fast ones)
    midnights = [int(dt.datetime.combine(day, dt.time(0), tz).timestamp()) for day in days]
    for column, instants in ((0, opened_at), (1, solved_at)):
        per_day = Counter(map(bisect.bisect_right, repeat(midnights), instants))
        for i, day in enumerate(days, start=1):  # bisect_right gives day i-1 as i
            rows[bucket(day)][column] += per_day.get(i, 0)
    return {"bucket": "week" if weekly else "day",
            "rows": [{"start": day.isoformat(), "opened": o, "solved": s} for day, (o, s) in sorted(rows.items())]}


def _head(report: str, period: Period, filters: Filters) -> dict:
    return {"report": report, "period": period.as_json(), "filters": filters.as_json()}


def summary(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """The period's headline figures; each is defined in docs/reports.md."""
    scope = period.scope(filters)
    m = measure(config, period, store.report_facts(scope, by="priority"))
    return {
        **_head("summary", period, filters),
        "opened": m.opened,
        "solved": m.solved,
        "backlog": store.report_backlog_count(scope),
        "first_response": first_response(m),
        "resolution": resolution(m),
        "one_touch": {"count": m.count(ONE_TOUCH), "rate": rate(m.count(ONE_TOUCH), m.solved)},
        "reopened": {"count": m.count(REOPENED), "rate": rate(m.count(REOPENED), m.solved)},
        "satisfaction": satisfaction(store.report_satisfaction(scope).get(None)),
        "sla": sla(m.opened_keys, m.waited, config),
        "trend": trend(period, m.opened_at, m.solved_at),
    }


def channels(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Volume and response times per channel."""
    scope = period.scope(filters)
    groups = measure(config, period, store.report_facts(scope, by="channel")).split()
    inbound = store.report_inbound_by_channel(scope)
    names = sorted(set(groups) | set(inbound), key=lambda n: (-groups.get(n, EMPTY).opened, n))
    rows = [{
        "channel": name,
        "opened": groups.get(name, EMPTY).opened,
        "messages_in": inbound.get(name, 0),
        "solved": groups.get(name, EMPTY).solved,
        "first_response": first_response(groups.get(name, EMPTY)),
        "resolution": resolution(groups.get(name, EMPTY)),
    } for name in names]
    return {**_head("channels", period, filters), "channels": rows}


def agents(store: Store, config: Config, period: Period, filters: Filters = Filters()) -> dict:
    """Per agent: replies written, conversations solved (as assignee), median first
    response (of the first replies they wrote), satisfaction (as assignee), on-call hours."""
    scope = period.scope(filters)
    replies = store.report_replies_by_author(scope)
    solved = store.report_solved_by(scope, "assignee")
    opened = measure(config, period, store.report_facts(scope, by="first_reply_by", solved=False))
    found = opened.first_responses()  # split only what the rows need: the answered ones' two clocks
    by_author = {k: Durations(*lists) for k, lists in
                 split_by(list(compress(opened.opened_keys, opened.answered)), found.calendar, found.business).items()}
    sat = store.report_satisfaction(scope, by="assignee")
    names = {n for n in set(replies) | set(solved) | set(by_author) | set(sat) if n}
    oncall = _oncall_hours(store, config, period, names)
    if filters.agent is not None:
        names &= {filters.agent}
    rows = []
    for name in sorted(names, key=lambda n: (-replies.get(n, 0), n)):
        found = by_author.get(name, Durations([], []))
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
