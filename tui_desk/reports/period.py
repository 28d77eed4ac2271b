"""The period and filters a report covers, parsed from `--since/--until/--tz` and friends.

A period is [since, until): since included, until excluded. A bare date means the
start of that day in the report's timezone for --since and the end of that day for
--until (so `--since 2026-11-01 --until 2026-11-30` is all of November).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..errors import UsageError
from ..hours import zone
from ..store import ReportScope, stamp

_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdwmy])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Filters:
    """Which conversations count (None: any). `agent` is the conversation's assignee."""

    channel: str | None = None
    agent: str | None = None
    tag: str | None = None

    def as_json(self) -> dict:
        return {"channel": self.channel, "agent": self.agent, "tag": self.tag}


@dataclass(frozen=True)
class Period:
    """[since, until) as aware UTC datetimes; `timezone` is where days and hours are read."""

    since: dt.datetime
    until: dt.datetime
    timezone: str = "UTC"
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    """The moment the report runs (unanswered conversations wait until min(until, now))."""

    @classmethod
    def between(cls, since: dt.datetime, until: dt.datetime, timezone: str = "UTC",
                now: dt.datetime | None = None) -> "Period":
        utc = dt.timezone.utc
        return cls(since.astimezone(utc), until.astimezone(utc), timezone,
                   (now or dt.datetime.now(utc)).astimezone(utc))

    @property
    def end(self) -> dt.datetime:
        """Until, or now if the period reaches into the future."""
        return min(self.until, self.now)

    def scope(self, filters: Filters = Filters()) -> ReportScope:
        return ReportScope(stamp(self.since), stamp(self.until), filters.channel, filters.agent, filters.tag)

    def as_json(self) -> dict:
        return {"since": stamp(self.since), "until": stamp(self.until), "timezone": self.timezone}


def parse_when(text: str, tz: str, now: dt.datetime, *, end: bool = False) -> dt.datetime:
    """"7d", "4w", "3m", "12h", "1y" (ago), a date (local midnight; with `end`, the next
    one) or a local "YYYY-MM-DD HH:MM"; UsageError otherwise."""
    m = _RELATIVE.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        if unit in "hdw":
            return now - dt.timedelta(hours=n) if unit == "h" else now - dt.timedelta(days=n * (7 if unit == "w" else 1))
        months = n * (12 if unit == "y" else 1)
        local = now.astimezone(zone(tz))
        year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
        day = min(local.day, _month_days(year, month + 1))
        return local.replace(year=year, month=month + 1, day=day).astimezone(dt.timezone.utc)
    try:
        if len(text.strip()) == 10:
            day = dt.date.fromisoformat(text.strip())
            if end:
                day += dt.timedelta(days=1)
            return dt.datetime.combine(day, dt.time(0), zone(tz)).astimezone(dt.timezone.utc)
        instant = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"cannot read {text!r} as a time: use 7d, 4w, 3m, 2026-11-01 or '2026-11-01 09:00'") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone(tz))
    return instant.astimezone(dt.timezone.utc)


def make_period(since: str | None, until: str | None, tz: str, *, default: str = "4w",
                now: dt.datetime | None = None) -> Period:
    """The period from command-line text; UsageError for bad input or an empty period."""
    try:
        zone(tz)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # whole seconds, like the instants report_facts holds, so "in the period" is exact for them
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    start = parse_when(since or default, tz, now)
    stop = parse_when(until, tz, now, end=True) if until else now
    if stop <= start:
        raise UsageError("the period is empty: --since must come before --until")
    return Period(start, stop, tz, now)


def _month_days(year: int, month: int) -> int:
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day
