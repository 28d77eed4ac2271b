"""The store's timestamps: UTC text of fixed width, sortable as text on every backend."""

from __future__ import annotations

import datetime as dt


def now() -> str:
    """The current instant in the store's timestamp format."""
    return stamp(dt.datetime.now(dt.timezone.utc))


def stamp(instant: dt.datetime) -> str:
    """UTC, fixed width, sortable as text, readable by SQLite's date functions."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    # isoformat is several times cheaper than strftime (sync stamps every message)
    return instant.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")[:23] + "Z"


def parse_stamp(text: str) -> dt.datetime:
    """The inverse of `stamp`."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
