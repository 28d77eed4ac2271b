"""What an agent writes to change a conversation, read the same way by the console and
the CLI: snooze presets and times, and tag words ("+billing -spam")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .errors import UsageError

SNOOZE_PRESETS = [("1h", "1 hour"), ("tomorrow", "tomorrow 9:00"), ("next-week", "next week (Monday 9:00)")]


def snooze_until(preset: str, now: dt.datetime, zone: str) -> dt.datetime:
    """When a snooze preset ends, in the desk's time zone (returned in UTC)."""
    local = now.astimezone(ZoneInfo(zone))
    if preset == "1h":
        return now + dt.timedelta(hours=1)
    if preset == "tomorrow":
        day = local.date() + dt.timedelta(days=1)
    elif preset == "next-week":
        day = local.date() + dt.timedelta(days=7 - local.weekday())
    else:
        raise UsageError(f"unknown snooze preset {preset!r}")
    return dt.datetime.combine(day, dt.time(9, 0), ZoneInfo(zone)).astimezone(dt.timezone.utc)


def parse_tags(text: str) -> tuple[list[str], list[str]]:
    """"+billing -spam vip" → (["billing", "vip"], ["spam"])."""
    add, remove = [], []
    for word in text.split():
        if word.startswith("-") and len(word) > 1:
            remove.append(word[1:])
        elif word.lstrip("+"):
            add.append(word.lstrip("+"))
    return add, remove
