"""Reading what people type: lengths ("1w"), handoffs ("mon 09:00"), instants, zones.

Every parser raises `UsageError` with one line that says what was expected, so the
CLI exits 2 with a clear message. Wall-clock times are turned into instants with
`localize`, which refuses times that do not exist (skipped by a DST change).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from ..errors import UsageError
from ..hours import DAYS, zone as _zone

UTC = dt.timezone.utc
_LENGTH = re.compile(r"^\s*(\d+)\s*(h|hours?|d|days?|w|weeks?)\s*$", re.I)
_HANDOFF = re.compile(r"^\s*(?:([a-z]{3})[a-z]*\s+)?(\d{1,2}):(\d{2})\s*$", re.I)
_UNIT_HOURS = {"h": 1, "d": 24, "w": 168}
MAX_LENGTH_HOURS = 24 * 7 * 52


def zone(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA name; UsageError naming the bad zone otherwise."""
    try:
        return _zone(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_length(text: str) -> int:
    """"12h", "1d", "2w" → hours. Days and weeks are wall-clock days (DST-safe)."""
    m = _LENGTH.match(text or "")
    if not m:
        raise UsageError(f"cannot read length {text!r}; write hours, days or weeks, e.g. 12h, 1d, 1w")
    hours = int(m.group(1)) * _UNIT_HOURS[m.group(2)[0].lower()]
    if not 1 <= hours <= MAX_LENGTH_HOURS:
        raise UsageError(f"length {text!r} must be between 1 hour and 52 weeks")
    return hours


def format_length(hours: int) -> str:
    """The inverse of parse_length, in the largest whole unit."""
    if hours % 168 == 0:
        return f"{hours // 168}w"
    if hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"


def parse_handoff(text: str) -> tuple[int | None, dt.time]:
    """"mon 09:00" → (0, 09:00); "09:00" → (None, 09:00) (any weekday)."""
    m = _HANDOFF.match(text or "")
    day = m.group(1).lower() if m and m.group(1) else None
    if not m or (day is not None and day not in DAYS):
        raise UsageError(f'cannot read handoff {text!r}; write a weekday and a time like "mon 09:00", or "09:00"')
    try:
        at = dt.time(int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise UsageError(f"handoff {text!r} has an impossible time") from None
    return (DAYS.index(day) if day else None), at


def format_handoff(day: int | None, at: dt.time) -> str:
    return (f"{DAYS[day]} " if day is not None else "") + at.strftime("%H:%M")


def localize(naive: dt.datetime, tz: ZoneInfo, *, strict: bool = True) -> dt.datetime:
    """A local wall-clock time as an aware instant. An ambiguous time (clocks going back)
    is its first occurrence. A time skipped by clocks going forward raises UsageError
    when `strict`; otherwise it is read with the offset before the change, i.e. as the
    first valid instant at or after it (what a handoff at such a time means)."""
    aware = naive.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive and strict:
        raise UsageError(f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks skip it)")
    return aware


def parse_when(text: str, tz: ZoneInfo, *, now: dt.datetime | None = None) -> dt.datetime:
    """An instant from "2026-12-24 22:00", "2026-12-24T22:00+01:00", "2026-12-24" (midnight),
    "now" or "today". Times without an offset are wall-clock times in `tz`."""
    raw = (text or "").strip()
    now = now or dt.datetime.now(UTC)
    if raw.lower() == "now":
        return now
    if raw.lower() == "today":
        return localize(dt.datetime.combine(now.astimezone(tz).date(), dt.time()), tz, strict=False)
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f'cannot read the date {text!r}; write e.g. "2026-12-24 22:00" or 2026-12-24') from None
    if parsed.tzinfo is not None:
        return parsed
    return localize(parsed, tz)


def parse_until(text: str, tz: ZoneInfo, *, now: dt.datetime | None = None) -> dt.datetime:
    """The end of a period: a bare day ("2026-12-31", "today") includes that whole day, so
    the end is the next local midnight, as in `tui-desk report --until`; a time is that instant."""
    raw = (text or "").strip()
    if raw.lower() != "today" and ("T" in raw or " " in raw or raw.lower() == "now"):
        return parse_when(raw, tz, now=now)
    day = parse_day(raw, tz, now=now) + dt.timedelta(days=1)
    return localize(dt.datetime.combine(day, dt.time()), tz, strict=False)


def parse_day(text: str, tz: ZoneInfo, *, now: dt.datetime | None = None) -> dt.date:
    """A calendar day: an ISO date, "today", or the local day of a full timestamp."""
    return parse_when(text, tz, now=now).astimezone(tz).date() if "T" in text or " " in text.strip() \
        or text.strip().lower() in ("now", "today") else _date(text)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"cannot read the date {text!r}; write e.g. 2026-12-24") from None
