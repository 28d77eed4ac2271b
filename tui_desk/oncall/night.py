"""Is on-call enough? The night figures of `oncall report`, from real traffic.

Per week (the desk's weeks, Monday first): messages from people while the desk was
closed, how many of them were in conversations now urgent, and the pages opened. Over
the whole window: the median minutes from page to acknowledgement, and from
acknowledgement to the first reply to the customer. Per person: the pages that reached
them and the nights disturbed (distinct nights, in the person's own zone, with a page
between 22:00 and 07:00; the small hours count for the night before).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ..hours import BusinessHours
from ..store import Store, parse_stamp, stamp

NIGHT_START, NIGHT_END = 22, 7


def night(store: Store, since: dt.datetime, until: dt.datetime, hours: BusinessHours,
          person_tz: dict[str, str]) -> dict:
    desk_zone = ZoneInfo(hours.timezone)
    weeks: dict[str, dict[str, int]] = {}

    def week(instant: dt.datetime) -> dict[str, int]:
        local = instant.astimezone(desk_zone).date()
        monday = (local - dt.timedelta(days=local.weekday())).isoformat()
        return weeks.setdefault(monday, {"after_hours": 0, "urgent": 0, "paged": 0})

    for received, priority in store.night_messages(stamp(since), stamp(until)):
        at = parse_stamp(received)
        if not hours.is_open(at):
            counts = week(at)
            counts["after_hours"] += 1
            counts["urgent"] += priority == "urgent"
    to_ack, to_reply = [], []
    people: dict[str, dict] = {}
    for page in store.pages_between(stamp(since), stamp(until)):
        opened = parse_stamp(page["created_at"])
        week(opened)["paged"] += 1
        if page["acked_at"]:
            acked = parse_stamp(page["acked_at"])
            to_ack.append((acked - opened).total_seconds() / 60)
            if page["first_reply_at"]:
                to_reply.append((parse_stamp(page["first_reply_at"]) - acked).total_seconds() / 60)
        for notice in page["notices"]:
            if notice["state"] != "sent":
                continue
            person = people.setdefault(notice["who"], {"pages": 0, "nights": set()})
            person["pages"] += 1
            local = parse_stamp(notice["at"]).astimezone(ZoneInfo(person_tz.get(notice["who"]) or hours.timezone))
            if local.hour >= NIGHT_START or local.hour < NIGHT_END:
                person["nights"].add(local.date() - dt.timedelta(days=local.hour < NIGHT_END))
    from ..reports.stats import median  # here: the reports package is large, and `oncall now` needs none of it
    return {
        "weeks": [{"week": k, **v} for k, v in sorted(weeks.items())],
        "median_minutes_to_ack": _round(median(to_ack)),
        "median_minutes_ack_to_reply": _round(median(to_reply)),
        "people": [{"who": who, "pages": p["pages"], "nights_disturbed": len(p["nights"])}
                   for who, p in sorted(people.items())],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
