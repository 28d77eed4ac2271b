"""Business hours: when the desk is open, in the desk's own timezone.

Written as lines like "mon-fri 09:00-17:00" or "sat 10:00-13:00"; holidays as ISO dates.
Pure arithmetic, no I/O: used by rules (after-hours), templates (next opening) and reports.
"""

from __future__ import annotations

import datetime as dt
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
