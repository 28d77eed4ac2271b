"""report_facts: the per-conversation clocks reports read stay true to the conversations.

Every change a report can see marks the conversation stale (triggers); the next report
measures it again. Other business hours, or a conversation older than the clock's origin,
measure everything anew. The figures themselves are asserted in test_reports.py.
"""

from __future__ import annotations


from tests.helpers import report_fixture as fx
from tests.helpers.report_fixture import desk, week  # noqa: F401 (fixtures)
from tui_desk.reports import make_period, summary
from tui_desk.reports import facts
from tui_desk.model import ParsedMessage
from tui_desk.store import Store, parse_stamp


def _checked(report: dict, priority: str) -> int:
    return report["sla"]["by_priority"][priority]["checked"]


def test_reports_follow_changes_made_since_the_last_report(desk, week):
    config = fx.config()
    before = summary(desk, config, week)
    assert facts.refresh(desk, config) == 0  # all measured by the report
    desk.set_priority(4, "urgent", "ana")  # opened in the week, high before
    desk.link_customers(2, 7, "ana")  # one person (merges across customers are refused)
    desk.merge(7, 2, "ana")  # 7 (opened in the week) is merged away: never counted again
    desk.set_status(2, "solved", "bo")  # solved now, after the week: its first response stays
    after = summary(desk, config, week)
    assert _checked(after, "urgent") == _checked(before, "urgent") + 1
    assert _checked(after, "high") == _checked(before, "high") - 1
    assert after["opened"] == before["opened"] - 1
    assert after["first_response"]["answered"] == before["first_response"]["answered"] - 1
    assert after["solved"] == before["solved"]
    assert facts.refresh(desk, config) == 0


def test_a_reply_written_later_is_a_first_response(desk, week):
    config = fx.config()
    assert summary(desk, config, week)["first_response"]["unanswered"] == 1  # conversation 4
    at = parse_stamp(fx.b("2026-11-05 10:00"))  # ana's reply, synced late from another copy of the mailbox
    reply = ParsedMessage(external_id="late-1", kind="email", sender_address="", sender_name="ana", received_at=at,
                          created_at=at, text="On it", direction="out")
    with desk.transaction():
        desk.add_inbound("mail", reply, None, 4, "")
    first = summary(desk, config, week)["first_response"]
    assert (first["answered"], first["unanswered"]) == (7, 0)


def test_other_business_hours_measure_everything_anew(desk, week):
    office = summary(desk, fx.config(), week)["first_response"]
    assert office["business"] != office["calendar"]
    always = fx.config(desk={"timezone": "Europe/Berlin", "business_hours": ["mon-sun 00:00-24:00"]})
    open_all_week = summary(desk, always, week)["first_response"]
    assert open_all_week["business"] == open_all_week["calendar"] == office["calendar"]
    assert summary(desk, fx.config(), week)["first_response"] == office


def test_old_mail_imported_later_moves_the_clock_back(desk, week):
    config = fx.config()
    before = summary(desk, config, week)
    origin = desk.report_facts_clock()[1]
    # a Monday in 2025, long before the first conversation: 3 business hours
    with desk.d.tx():  # schema test: raw SQL on purpose (a row the facts' triggers must notice)
        desk.d.conn.execute(
            "INSERT INTO conversations (channel, subject, status, created_at, last_message_at, solved_at)"
            " VALUES ('mail', 'Old', 'solved', ?, ?, ?)",
            (fx.b("2025-01-06 09:00"), fx.b("2025-01-06 12:00"), fx.b("2025-01-06 12:00")))
    january = make_period("2025-01-06", "2025-01-06", "Europe/Berlin", now=fx.NOW)
    assert summary(desk, config, january)["resolution"]["business"] == {"median": 10800, "p90": 10800}
    assert desk.report_facts_clock()[1] < origin
    assert summary(desk, config, week) == before  # every business duration is the same from the new origin


def test_a_report_with_nothing_stale_needs_no_write_lock(desk, week, db_path):
    config = fx.config()
    before = summary(desk, config, week)  # measures everything
    desk.d.conn.execute("PRAGMA busy_timeout = 100")  # raw SQL on purpose: waiting for the lock would fail fast
    with Store.open(db_path) as sync:
        with sync.d.tx():  # raw SQL on purpose: another process (a long sync batch) holds the write lock
            assert summary(desk, config, week) == before
