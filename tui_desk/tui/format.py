"""Turning store rows into terminal text: fixed-width columns, humanised times.

Everything here builds Rich `Text` from `textsafe` output, never markup strings, and
measures in terminal cells (rich.cells), so CJK, Thai and emoji keep columns aligned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

from ..channel_kinds import MEDIUM
from ..store import parse_stamp
from ..textsafe import one_line

MEDIUM_GLYPH = {"email": "✉", "chat": "💬"}
"""Mail and chat, told apart at a glance (a channel of unknown kind: "·")."""


def channel_glyph(kind: str) -> str:
    return MEDIUM_GLYPH.get(MEDIUM.get(kind, ""), "·")


def fit(text: str, width: int) -> str:
    """`text` cut or padded to exactly `width` cells (an ellipsis marks a cut)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def humanize(since: dt.timedelta) -> str:
    """A short age: 45s, 12m, 3h, 2d, 5w."""
    seconds = max(int(since.total_seconds()), 0)
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def age(stamp: str | None, now: dt.datetime) -> str:
    return humanize(now - parse_stamp(stamp)) if stamp else ""


def local_time(stamp: str | None) -> str:
    """A stored UTC stamp as the viewer's local 'YYYY-MM-DD HH:MM'."""
    if not stamp:
        return ""
    return parse_stamp(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def who(row: dict) -> str:
    return one_line(row.get("customer_name") or row.get("customer_address") or "(unknown)")


def columns(width: int) -> dict[str, int]:
    """Column widths of the queue for a given total width; the subject takes the rest."""
    cols = {"mark": 2, "unread": 2, "channel": 3, "who": 18, "subject": 0, "status": 8, "assignee": 9, "wait": 5}
    if width < 100:
        cols["who"], cols["assignee"] = 14, 7
    if width < 70:
        cols["who"], cols["assignee"] = 12, 0
    cols["subject"] = max(width - sum(cols.values()) - 6, 8)
    return cols


def queue_line(row: dict, width: int, now: dt.datetime, *, marked: bool, channel_kind: str = "",
               styles: Mapping[str, Style | str] = {}) -> Text:
    """One inbox row as a line of exactly `width` cells. `styles` maps "mark", "unread",
    "late", "status-NAME" to styles (the widget takes them from its CSS)."""
    cols = columns(width)
    line = Text(no_wrap=True, overflow="crop", end="")
    line.append("● " if marked else "  ", styles.get("mark", ""))
    line.append("• " if row.get("unread") else "  ", styles.get("unread", ""))
    line.append(fit(channel_glyph(channel_kind), cols["channel"]))
    line.append(fit(who(row), cols["who"]) + " ", styles.get("unread-name", "") if row.get("unread") else "")
    subject = one_line(row.get("subject")) or "(no subject)"
    if row.get("uncertain_reply"):  # before the subject, where a narrow queue still shows it
        subject = "⚠ reply may have been sent · " + subject
    elif row.get("failed_reply"):
        subject = "✗ reply not sent · " + subject
    line.append(fit(subject, cols["subject"]) + " ")
    line.append(fit(row["status"], cols["status"]) + " ", styles.get(f"status-{row['status']}", ""))
    if cols["assignee"]:
        line.append(fit(one_line(row.get("assignee")) or "-", cols["assignee"]) + " ", "italic")
    waiting = age(row.get("waiting_since"), now) if row["status"] in ("new", "open") else ""
    line.append(fit(waiting.rjust(cols["wait"]), cols["wait"]), styles.get("late", "") if waiting.endswith(("d", "w")) else "")
    line.truncate(width, pad=True)
    return line


def header_line(width: int) -> Text:
    cols = columns(width)
    head = "    " + fit("", cols["channel"]) + fit("Customer", cols["who"]) + " " + fit("Subject", cols["subject"]) + " "
    head += fit("Status", cols["status"]) + " " + (fit("Agent", cols["assignee"]) + " " if cols["assignee"] else "")
    head += fit("Wait", cols["wait"])
    text = Text(head, style="bold", no_wrap=True, end="")
    text.truncate(width, pad=True)
    return text
