"""Keeping report_facts current: each conversation's clocks, worked out once.

A report reads durations from report_facts (store/reports.py) instead of measuring
200,000 conversations each time; store/report_facts.py reads and writes the table. Triggers list every conversation a change touched in
report_facts_stale; `refresh` measures those (at the start of every clock report, so a
report never reads a stale fact) and stores them. Business seconds are readings of
one business clock running from an origin (the first conversation's day), so any
business duration is a difference of two readings; the hours the readings were made
with are stored beside them, and other hours (a changed config) start over.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from itertools import chain

from ..config import Config
from ..hours import BusinessClock, BusinessHours
from ..store import Store
from ..store.report_facts import FactRow

CHUNK = 50_000  # conversations measured per write transaction (a sync waits at most that long)
DAY = 86400


class _BeforeOrigin(Exception):
    """A conversation began before the clock's origin (old mail imported late)."""


def hours_key(hours: BusinessHours) -> str:
    """The business hours as stored beside the facts: any difference measures anew."""
    return json.dumps({"timezone": hours.timezone,
                       "windows": [[d, o.isoformat(), c.isoformat()] for d, o, c in sorted(hours.windows)],
                       "holidays": sorted(day.isoformat() for day in hours.holidays)})


def refresh(store: Store, config: Config) -> int:
    """Bring report_facts up to date; returns how many conversations were measured."""
    hours = config.desk.hours()
    key = hours_key(hours)
    state = store.report_facts_clock()
    if state is None or state[0] != key:
        state = _restart(store, key, None)
    measured = 0
    meter = _Meter(hours, state[1])
    while True:
        try:
            count = store.refresh_report_facts(meter.measure, CHUNK)
        except _BeforeOrigin as exc:
            state = _restart(store, key, exc.args[0])
            meter = _Meter(hours, state[1])
            continue
        measured += count
        if count < CHUNK:
            return measured


def _restart(store: Store, key: str, earliest: int | None) -> tuple[str, int]:
    """Forget all facts; the new origin is the UTC midnight a day before the first conversation."""
    first = store.earliest_conversation()
    candidates = [t for t in (first, earliest) if t is not None] or [int(time.time())]
    origin = (min(candidates) // DAY - 1) * DAY
    store.reset_report_facts(key, origin)
    return key, origin


class _Meter:
    """Measures stale conversations into report_facts rows with one business clock."""

    def __init__(self, hours: BusinessHours, origin: int) -> None:
        self.hours = hours
        self.origin = origin
        self.clock: BusinessClock | None = None
        self.end = 0

    def _clock_to(self, latest: int) -> BusinessClock:
        # readings do not depend on where the clock's span ends, as long as it covers them
        if self.clock is None or latest >= self.end:
            self.end = max(latest, int(time.time())) + DAY
            utc = dt.timezone.utc
            self.clock = BusinessClock(self.hours, dt.datetime.fromtimestamp(self.origin, utc),
                                       dt.datetime.fromtimestamp(self.end, utc))
        return self.clock

    def measure(self, rows: list[FactRow]) -> list[tuple]:
        if not rows:
            return []
        ids, channels, assignees, repliers, priorities, tags, statuses, created, answered, solved, one_touch, reopened \
            = zip(*rows)
        if min(created) < self.origin:
            raise _BeforeOrigin(min(created))
        # a stop before its start (clock skew between channels) counts as no time
        answered = [None if a is None else max(a, c) for a, c in zip(answered, created)]
        solved = [None if s is None else max(s, c) for s, c in zip(solved, created)]
        clock = self._clock_to(max(t for t in chain(created, answered, solved) if t is not None))
        open_created = list(map(round, clock.elapsed_many(created)))
        open_answered = _readings(clock, answered)
        open_solved = _readings(clock, solved)
        return list(zip(
            ids, channels, assignees, repliers, priorities, tags, statuses, created, answered, solved,
            open_created, clock.open_many(created),
            _durations(answered, created), _durations(open_answered, open_created),
            _durations(solved, created), _durations(open_solved, open_created),
            one_touch, reopened,
        ))


def _readings(clock: BusinessClock, instants: list[int | None]) -> list[int | None]:
    readings = iter(map(round, clock.elapsed_many([t for t in instants if t is not None])))
    return [None if t is None else next(readings) for t in instants]


def _durations(stops: list[int | None], starts: list[int]) -> list[int | None]:
    return [None if stop is None else stop - start for stop, start in zip(stops, starts)]


def reading(store: Store, config: Config, instant: float) -> float:
    """The business clock's reading at `instant` (epoch seconds), as the stored facts
    read it: a business duration up to `instant` is this minus the start's reading."""
    state = store.report_facts_clock()
    origin = state[1] if state else int(instant)
    utc = dt.timezone.utc
    clock = BusinessClock(config.desk.hours(), dt.datetime.fromtimestamp(origin, utc),
                          dt.datetime.fromtimestamp(max(instant, origin) + DAY, utc))
    return clock.elapsed(instant)
