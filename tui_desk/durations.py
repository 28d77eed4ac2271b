"""Durations as rules write them: "30m", "4h", "3d", "2w", or a sum like "1d12h"."""

from __future__ import annotations

import datetime as dt
import re

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: object) -> dt.timedelta:
    """A duration; ValueError saying what is expected otherwise."""
    value = str(text).strip().lower() if isinstance(text, str) else ""
    parts = _PART.findall(value)
    if not value or _PART.sub("", value).strip() or not parts:
        raise ValueError(f"expected a duration like \"30m\", \"4h\", \"3d\" or \"1d12h\", got {text!r}")
    return dt.timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in parts))
