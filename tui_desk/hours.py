"""Business hours: when the desk is open, in the desk's own timezone.

Written as lines like "mon-fri 09:00-17:00" or "sat 10:00-13:00"; holidays as ISO dates.
Pure arithmetic, no I/O: used by rules (after-hours), templates (next opening) and reports.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import operator
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_LINE = re.compile(r"^\s*(\w{3})(?:\s*-\s*(\w{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Window = tuple[int, dt.time, dt.time]  # weekday (0 = Monday), opens, closes


def parse_business_hours(lines: list[str]) -> list[Window]:
    """["mon-fri 09:00-17:00"] → windows; ValueError names the bad line."""
    windows: list[Window] = []
    for line in lines:
        m = _LINE.match(line.lower())
        if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS):
            raise ValueError(f'business_hours: cannot read {line!r}; write e.g. "mon-fri 09:00-17:00"')
        first = DAYS.index(m.group(1))
        last = DAYS.index(m.group(2)) if m.group(2) else first
        try:
            opens = dt.time(int(m.group(3)), int(m.group(4)))
            closes = dt.time(int(m.group(5)), int(m.group(6))) if m.group(5) != "24" else dt.time.max
        except ValueError:
            raise ValueError(f"business_hours: {line!r} has an impossible time") from None
        if closes <= opens:
            raise ValueError(f"business_hours: {line!r} closes before it opens")
        day = first
        while True:
            windows.append((day, opens, closes))
            if day == last:
                break
            day = (day + 1) % 7
    return windows


def parse_holidays(days: list[str]) -> frozenset[dt.date]:
    out = set()
    for day in days:
        try:
            out.add(dt.date.fromisoformat(day))
        except ValueError:
            raise ValueError(f"holidays: {day!r} is not a date like 2026-12-25") from None
    return frozenset(out)


def zone(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA name; ValueError with a readable message otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (use an IANA name like Europe/Berlin)") from None


# the zones of the offsets that are not whole hours (Etc/GMT zones cover those)
_HALF_HOURS = {-210: "America/St_Johns", 210: "Asia/Tehran", 270: "Asia/Kabul", 330: "Asia/Kolkata",
               345: "Asia/Kathmandu", 390: "Asia/Yangon", 570: "Australia/Darwin", 630: "Australia/Adelaide",
               765: "Pacific/Chatham"}
LEARNT_PREFIX = "Etc/GMT"
"""A zone learnt from an offset (a fixed one) begins so: a later mail may correct it."""


def zone_for_offset(offset: dt.timedelta | None) -> str | None:
    """The zone a UTC offset from a mail's Date header stands for: "+0900" is Etc/GMT-9
    (POSIX signs are inverted), "+0530" Asia/Kolkata. None for +0000, which as often
    means a server that writes UTC as a person in London."""
    if not offset:
        return None
    minutes = int(offset.total_seconds() // 60)
    if minutes % 60 == 0 and -12 <= minutes // 60 <= 14:
        return f"{LEARNT_PREFIX}{-minutes // 60:+d}"
    return _HALF_HOURS.get(minutes)


@dataclass(frozen=True)
class BusinessHours:
    """When the desk is open. Instants are aware datetimes; windows are local wall-clock times."""

    timezone: str
    windows: list[Window]
    holidays: frozenset[dt.date]

    def __post_init__(self) -> None:
        zone(self.timezone)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def is_open(self, instant: dt.datetime) -> bool:
        local = instant.astimezone(self.tz)
        if local.date() in self.holidays:
            return False
        t = local.time().replace(tzinfo=None)
        return any(day == local.weekday() and opens <= t < closes for day, opens, closes in self.windows)

    def next_opening(self, instant: dt.datetime) -> dt.datetime | None:
        """The next instant the desk opens at or after `instant` (None if it never opens)."""
        if not self.windows:
            return None
        local = instant.astimezone(self.tz)
        if self.is_open(local):
            return local
        for offset in range(0, 400):
            day = local.date() + dt.timedelta(days=offset)
            if day in self.holidays:
                continue
            starts = sorted(o for d, o, _ in self.windows if d == day.weekday())
            for opens in starts:
                candidate = dt.datetime.combine(day, opens, self.tz)
                if candidate > local:
                    return candidate
        return None

    def closed_since(self, instant: dt.datetime) -> dt.datetime:
        """When the closed period `instant` falls in began: the end of the last opening
        before it (at most 31 days back; `instant` itself while the desk is open)."""
        back = _aware(instant) - dt.timedelta(days=31)
        intervals = self.open_intervals(back, _aware(instant))
        return intervals[-1][1] if intervals else back

    # -- arithmetic: open time between two instants ---------------------------------

    def open_intervals(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open periods within [start, end), clipped to it, in order, as UTC instants.

        Windows are wall-clock times of each local day, so a day on which the clocks
        change keeps its 09:00–17:00 (a window spanning the change is an hour shorter or
        longer). A window ending at 24:00 ends at the next local midnight; holidays are
        local dates. Overlapping windows of one day are merged."""
        start, end = _aware(start), _aware(end)
        if end <= start or not self.windows:
            return []
        tz = self.tz
        by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for day, opens, closes in self.windows:
            by_day.setdefault(day, []).append((opens, closes))
        out: list[tuple[dt.datetime, dt.datetime]] = []
        day = start.astimezone(tz).date() - dt.timedelta(days=1)
        last = end.astimezone(tz).date()
        while day <= last:
            if day not in self.holidays:
                for opens, closes in sorted(by_day.get(day.weekday(), ())):
                    a = max(_local(day, opens, tz), start)
                    b = min(_local(day + dt.timedelta(days=1), dt.time(0), tz) if closes == dt.time.max
                            else _local(day, closes, tz), end)
                    if a >= b:
                        continue
                    if out and a <= out[-1][1]:
                        out[-1] = (out[-1][0], max(out[-1][1], b))
                    else:
                        out.append((a, b))
            day += dt.timedelta(days=1)
        return out

    def seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds the desk is open between two instants (0 when end is not after start)."""
        return sum((b - a).total_seconds() for a, b in self.open_intervals(start, end))


def _aware(instant: dt.datetime) -> dt.datetime:
    """Naive datetimes are UTC, as in the store."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    return instant.astimezone(dt.timezone.utc)


def _local(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.timezone.utc)


_BEFORE = -(1 << 62)  # an int before every instant (an int, for the same reason as in BusinessClock)


def _whole(t: float) -> int | float:
    return int(t) if t.is_integer() else t


class BusinessClock:
    """Open seconds between many instants, fast: prefix sums over the open intervals of
    one span, so each question is a binary search (reports ask it 200,000 times).

    Instants are epoch seconds (floats); answers outside the span count no open time
    beyond it. Agrees with `BusinessHours.seconds_between` inside the span."""

    def __init__(self, hours: BusinessHours, start: dt.datetime, end: dt.datetime) -> None:
        intervals = hours.open_intervals(start, end)
        # whole seconds as ints (opening hours are whole minutes): the reports' instants
        # are ints, and int-with-int arithmetic and comparison run 2-3x faster than mixed
        self.starts = [_whole(a.timestamp()) for a, _ in intervals]
        self.ends = [_whole(b.timestamp()) for _, b in intervals]
        self.lengths = [b - a for a, b in zip(self.starts, self.ends)]
        self.cumulative: list[float] = []  # open seconds before each interval
        total = 0
        for a, b in zip(self.starts, self.ends):
            self.cumulative.append(total)
            total += b - a

    def elapsed(self, t: float) -> float:
        """Open seconds from the span's start up to `t`."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.cumulative[i] + min(t - self.starts[i], self.ends[i] - self.starts[i])

    def elapsed_many(self, instants: list[float]) -> list[float]:
        """`elapsed` of each instant. The hot path of the reports: the binary searches run
        in one C-level map, and the tables are shifted by one so that index 0 (before the
        first interval) needs no special case."""
        if not self.starts:
            return [0.0] * len(instants)
        found = map(bisect.bisect_right, itertools.repeat(self.starts), instants)
        # inside interval i: t + (cumulative - start); past its end: cumulative + length
        offset = [0, *(c - s for c, s in zip(self.cumulative, self.starts))]
        ends = [_BEFORE, *self.ends]
        done = [0, *(c + n for c, n in zip(self.cumulative, self.lengths))]
        return [offset[i] + t if t < ends[i] else done[i] for i, t in zip(found, instants)]

    def between(self, a: float, b: float) -> float:
        """Open seconds in [a, b) (0 when b is not after a)."""
        return max(0.0, self.elapsed(b) - self.elapsed(a)) if b > a else 0.0

    def is_open(self, t: float) -> bool:
        i = bisect.bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]

    def open_many(self, instants: list[float]) -> list[bool]:
        """`is_open` of each instant, in C-level maps like `elapsed_many`."""
        found = map(bisect.bisect_right, itertools.repeat(self.starts), instants)
        ends = [_BEFORE, *self.ends]
        return list(map(operator.lt, instants, map(ends.__getitem__, found)))

