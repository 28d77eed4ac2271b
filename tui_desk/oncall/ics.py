"""The schedule as an RFC 5545 calendar (through the icalendar package).

One VEVENT per segment of the final schedule, the person in the title. UIDs are stable:
a shift piece is named by rotation, shift index and its position within the shift; an
override by its id. Re-importing an updated file therefore updates events in calendar
apps instead of duplicating them. Times are written in UTC, which every app reads.
"""

from __future__ import annotations

import datetime as dt

import icalendar

from .schedule import Segment
from .timeparse import UTC

PRODID = "-//tui-desk//on-call rotation//EN"
DOMAIN = "oncall.tui-desk"


def uid(segment: Segment, piece: int) -> str:
    if segment.override is not None:
        return f"{segment.rotation}-override-{segment.override}@{DOMAIN}"
    return f"{segment.rotation}-shift-{segment.shift}-{piece}@{DOMAIN}"


def title(segment: Segment) -> str:
    """"On call: bo (support)", and an override's reason: "On call: bo (support): Ana's dentist"."""
    reason = " ".join(segment.reason.split())  # one line: a calendar title, whatever was typed
    return f"On call: {segment.who} ({segment.rotation})" + (f": {reason}" if reason else "")


def calendar(segments: list[Segment], *, name: str = "On call", stamp: dt.datetime | None = None) -> bytes:
    """The calendar file's bytes. `stamp` (DTSTAMP) defaults to now."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    stamp = (stamp or dt.datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    pieces: dict[tuple[str, int], int] = {}
    for seg in segments:
        key = (seg.rotation, seg.shift)
        piece = pieces.get(key, 0)
        if seg.override is None:
            pieces[key] = piece + 1
        event = icalendar.Event()
        event.add("uid", uid(seg, piece))
        event.add("dtstamp", stamp)
        event.add("dtstart", seg.start.astimezone(UTC))
        event.add("dtend", seg.end.astimezone(UTC))
        event.add("summary", title(seg))
        event.add("categories", ["on-call", seg.rotation])
        if seg.override is not None:
            event.add("description", f"Override: {seg.who} instead of {seg.base}"
                                     + (f" ({seg.reason})" if seg.reason else ""))
        cal.add_component(event)
    return cal.to_ical()


def read(data: bytes) -> list[dict]:
    """The events of a calendar file as {uid, summary, start, end} (UTC), in file order."""
    cal = icalendar.Calendar.from_ical(data)
    return [
        {"uid": str(e["uid"]), "summary": str(e["summary"]),
         "start": e.decoded("dtstart").astimezone(UTC), "end": e.decoded("dtend").astimezone(UTC)}
        for e in cal.walk("VEVENT")
    ]
