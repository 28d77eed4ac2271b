"""A small desk with a week of known history, for the report tests.

The desk is in Europe/Berlin, open mon-fri 09:00-17:00, closed on the holiday
Wednesday 2026-11-04. The reported week is Monday 2026-11-02 to Sunday 2026-11-08
(local); every time below is Berlin wall-clock time. The expected figures in
tests/unit/test_reports.py are worked out by hand from this story, conversation by
conversation, in the comments there.

Rows are written with plain SQL because the history has to carry fixed past times;
the report code itself only reads through the store.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from tui_desk import config as config_mod
from tui_desk.store import Store, stamp

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)
CONFIG = {
    "desk": {"timezone": "Europe/Berlin", "business_hours": ["mon-fri 09:00-17:00"], "holidays": ["2026-11-04"]},
    "reports": {"sla_first_response_hours": {"urgent": 1, "high": 4, "normal": 24, "low": 72}, "sla_clock": "business"},
}


def b(text: str) -> str:
    """Berlin wall-clock "2026-11-02 10:00" as a store stamp."""
    return stamp(dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN))


def config(**reports) -> config_mod.Config:
    data = json.loads(json.dumps(CONFIG))
    data["reports"].update(reports.pop("reports", {}))
    data.update(reports)
    return config_mod.from_dict(data)


# id, channel, priority, assignee, tags, status, created, solved_at, merged_into
CONVERSATIONS = [
    (1, "mail", "normal", "ana", ["billing"], "solved", "2026-11-02 10:00", "2026-11-02 12:00", None),
    (2, "chat", "high", "bo", [], "open", "2026-11-06 16:30", None, None),
    (3, "mail", "urgent", "ana", ["vip", "billing"], "solved", "2026-11-03 18:00", "2026-11-05 14:00", None),
    (4, "mail", "high", None, [], "new", "2026-11-05 09:00", None, None),
    (5, "chat", "urgent", "bo", ["vip"], "solved", "2026-11-06 09:00", "2026-11-06 11:30", None),
    (6, "mail", "low", "ana", [], "solved", "2026-10-23 10:00", "2026-11-02 09:30", None),
    (7, "chat", "normal", "bo", [], "pending", "2026-11-07 10:00", None, None),
    (8, "mail", "normal", "ana", [], "closed", "2026-11-03 10:00", None, 1),
    (9, "chat", "normal", "ana", [], "solved", "2026-11-08 20:00", "2026-11-09 10:00", None),
    (10, "mail", "normal", "bo", [], "closed", "2026-10-01 10:00", "2026-10-02 10:00", None),
]

# conversation, direction, automatic, author, time (, template)
MESSAGES = [
    (1, "in", None, "Customer One", "2026-11-02 10:00"),
    (1, "out", "ack", "desk", "2026-11-02 10:00:30"),   # automatic acknowledgement: not a response
    (1, "note", None, "ana", "2026-11-02 10:05"),       # a note: not a response
    (1, "out", None, "ana", "2026-11-02 11:30", "t-refund"),
    (2, "in", None, "Customer Two", "2026-11-06 16:30"),
    (2, "in", "auto-reply", "Customer Two", "2026-11-06 16:31"),  # their autoresponder: not a person
    (2, "out", None, "bo", "2026-11-09 09:30"),         # after the period
    (3, "in", None, "Customer Three", "2026-11-03 18:00"),
    (3, "out", None, "bo", "2026-11-04 10:00", "t-refund"),
    (3, "in", None, "Customer Three", "2026-11-04 11:00"),
    (3, "out", None, "ana", "2026-11-05 09:15"),
    (3, "in", None, "Customer Three", "2026-11-05 12:00"),
    (3, "out", None, "ana", "2026-11-05 13:00"),
    (4, "in", None, "Customer Four", "2026-11-05 09:00"),
    (4, "out", "ack", "desk", "2026-11-05 09:00:10"),
    (5, "in", None, "Customer Five", "2026-11-06 09:00"),
    (5, "out", None, "bo", "2026-11-06 11:00", "t-reset"),
    (5, "out", "survey", "desk", "2026-11-06 11:30"),   # the survey: not a response
    (6, "in", None, "Customer Six", "2026-10-23 10:00"),
    (6, "out", None, "ana", "2026-10-23 10:30"),
    (7, "in", None, "Customer Seven", "2026-11-07 10:00"),
    (7, "out", None, "bo", "2026-11-07 10:20", "t-refund"),
    (7, "in", None, "Customer Seven", "2026-11-07 10:40"),
    (9, "in", None, "Customer Nine", "2026-11-08 20:00"),
    (9, "out", None, "ana", "2026-11-09 08:00"),
    (10, "in", None, "Customer Ten", "2026-10-01 10:00"),
    (10, "out", None, "bo", "2026-10-01 11:00", "t-old"),
]

# conversation, kind, actor, time, data
EVENTS = [
    (1, "template_used", "ana", "2026-11-02 11:30", {"template": "t-refund"}),
    (1, "status", "ana", "2026-11-02 12:00", {"from": "open", "to": "solved"}),
    (1, "survey_sent", "rules", "2026-11-02 12:00", {}),
    (1, "satisfaction", "customer", "2026-11-02 13:00", {"score": 5}),
    (3, "template_used", "bo", "2026-11-04 10:00", {"template": "t-refund"}),
    (3, "status", "ana", "2026-11-05 10:00", {"from": "open", "to": "solved"}),
    (3, "status", "customer", "2026-11-05 12:00", {"from": "solved", "to": "open", "why": "customer wrote"}),
    (3, "status", "ana", "2026-11-05 14:00", {"from": "open", "to": "solved"}),
    (3, "survey_sent", "rules", "2026-11-05 14:00", {}),
    (5, "template_used", "bo", "2026-11-06 11:00", {"template": "t-reset"}),
    (5, "status", "bo", "2026-11-06 11:30", {"from": "open", "to": "solved"}),
    (5, "survey_sent", "rules", "2026-11-06 11:30", {}),
    (5, "satisfaction", "customer", "2026-11-07 10:00", {"score": 3}),
    (6, "status", "ana", "2026-11-02 09:30", {"from": "pending", "to": "solved"}),
    (7, "template_used", "bo", "2026-11-07 10:20", {"template": "t-refund"}),
    (7, "status", "bo", "2026-11-07 10:20", {"from": "open", "to": "pending"}),
    (9, "status", "ana", "2026-11-09 10:00", {"from": "open", "to": "solved"}),
    (10, "template_used", "bo", "2026-10-01 11:00", {"template": "t-old"}),
]


def build(store: Store) -> None:  # raw SQL on purpose: a story dated in the past, row by row
    """Write the story into a freshly migrated store."""
    conn = store.d.conn
    with store.d.tx():
        for cid, channel, priority, assignee, tags, status, created, solved, merged in CONVERSATIONS:
            conn.execute("INSERT INTO customers (id, name, created_at) VALUES (?, ?, ?)",
                         (cid, f"Customer {cid}", b(created)))
            conn.execute("INSERT INTO identities (customer_id, kind, address) VALUES (?, 'email', ?)",
                         (cid, f"c{cid}@example.com"))
            people = [m for m in MESSAGES if m[0] == cid and m[1] == "in" and m[2] is None]
            last = max((b(m[4]) for m in MESSAGES if m[0] == cid), default=b(created))
            conn.execute(
                "INSERT INTO conversations (id, channel, customer_id, subject, status, priority, assignee, tags,"
                " created_at, solved_at, last_message_at, last_inbound_at, merged_into)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (cid, channel, cid, f"Question {cid}", status, priority, assignee, json.dumps(tags), b(created),
                 b(solved) if solved else None, last, max(b(m[4]) for m in people) if people else None, merged))
        for n, (cid, direction, automatic, author, at, *template) in enumerate(MESSAGES, 1):
            conn.execute(
                "INSERT INTO messages (conversation_id, channel, direction, customer_id, author, text, external_id,"
                " created_at, received_at, automatic, template_id)"
                " VALUES (?, (SELECT channel FROM conversations WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cid, cid, direction, cid if direction == "in" else None, author, f"message {n}", f"x{n}",
                 b(at), b(at), automatic, template[0] if template else None))
        for cid, kind, actor, at, data in EVENTS:
            conn.execute("INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, ?, ?, ?, ?)",
                         (cid, kind, actor, b(at), json.dumps(data)))


# The on-call rotations of the reported week (for the agents report's on-call hours):
# - "support", weekly from Monday 09:00: ana until Mon 2 Nov 09:00 (9 h of the week), bo
#   from then on (159 h), except the override chen covers, Sat 7 Nov 10:00 to Sun 10:00
#   (24 h): bo 135 h. No DST change in the week (it was on 25 October).
# - "evenings", after hours only, daily from 17:00, dara alone, from Thu 5 Nov 17:00 to
#   the end of the week (79 h), less Friday's opening hours 09-17 (8 h): 71 h.
ONCALL_HOURS = {"ana": 9, "bo": 135, "chen": 24, "dara": 71}


def build_oncall(store: Store) -> None:
    """Add the on-call rotations above (through the store, as `tui-desk oncall` does)."""
    store.oncall_add_rotation(name="support", timezone="Europe/Berlin", anchor="2026-10-26T09:00",
                              handoff="mon 09:00", length_hours=168, only="always",
                              members=["ana", "bo", "chen"], actor="lead")
    store.oncall_add_override("support", who="chen", starts_at=b("2026-11-07 10:00"),
                              ends_at=b("2026-11-08 10:00"), reason="", actor="lead")
    store.oncall_add_rotation(name="evenings", timezone="Europe/Berlin", anchor="2026-11-05T17:00",
                              handoff="17:00", length_hours=24, only="after-hours", members=["dara"], actor="lead")


@pytest.fixture
def desk(store):
    """The story, written into the test's store."""
    build(store)
    return store


@pytest.fixture
def week():
    """The reported week, as `--since 2026-11-02 --until 2026-11-08 --tz Europe/Berlin`."""
    from tui_desk.reports import make_period

    return make_period("2026-11-02", "2026-11-08", "Europe/Berlin", now=NOW)
