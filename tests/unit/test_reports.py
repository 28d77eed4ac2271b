"""Every report figure on the fixture desk, against values worked out by hand.

The story is in tests/helpers/report_fixture.py (Berlin times; CET = UTC+1 in the
reported week 2026-11-02..08; the desk is open mon-fri 09-17, closed Wednesday 11-04).
Durations below are in seconds: 1 h = 3600.
"""

from __future__ import annotations

import datetime as dt

from tests.helpers import report_fixture as fx
from tests.helpers.report_fixture import desk, week  # noqa: F401 (fixtures)
from tui_desk.reports import Filters, agents, backlog, channels, hours, make_period, summary, templates


def test_period_is_the_local_week(week):
    assert week.as_json() == {"since": "2026-11-01T23:00:00.000Z", "until": "2026-11-08T23:00:00.000Z",
                              "timezone": "Europe/Berlin"}


def test_summary(desk, week):
    data = summary(desk, fx.config(), week)
    # opened in the week: 1, 2, 3, 4, 5, 7, 9 (6 is older, 8 was merged away, 10 is old)
    assert data["opened"] == 7
    # solved in the week: 1, 3, 5 and 6 (9 was solved only after the week)
    assert data["solved"] == 4
    # open at the end: 2 (open), 4 (new), 7 (pending), 9 (solved only afterwards)
    assert data["backlog"] == 4
    # first agent reply (acks, notes and surveys skipped), calendar / business:
    #   1: 10:00→11:30 = 5400 / 5400       2: Fri 16:30→Mon 09:30 = 234000 / 1800+1800 = 3600
    #   3: Tue 18:00→Wed(holiday) 10:00 = 57600 / 0      5: 09:00→11:00 = 7200 / 7200
    #   7: Sat 10:00→10:20 = 1200 / 0      9: Sun 20:00→Mon 08:00 = 43200 / 0      4: unanswered
    assert data["first_response"] == {
        "answered": 6, "unanswered": 1,
        "calendar": {"median": (7200 + 43200) / 2, "p90": 234000},
        "business": {"median": (0 + 3600) / 2, "p90": 7200},
    }
    # resolution (created → solved), calendar / business:
    #   1: 7200 / 7200    5: 9000 / 9000
    #   3: Tue 18:00→Thu 14:00 = 158400 / Thu 09-14 = 18000
    #   6: Fri 10-23 10:00 CEST→Mon 11-02 09:30 CET (across the DST change) = 240.5 h = 865800
    #      / Fri 7 h + a week of 40 h + Mon 0.5 h = 47.5 h = 171000
    assert data["resolution"] == {
        "solved": 4,
        "calendar": {"median": (9000 + 158400) / 2, "p90": 865800},
        "business": {"median": (9000 + 18000) / 2, "p90": 171000},
    }
    # one agent reply: 1, 5, 6 (3 had three); reopened: 3
    assert data["one_touch"] == {"count": 3, "rate": 0.75}
    assert data["reopened"] == {"count": 1, "rate": 0.25}
    # surveys sent on 1, 3, 5; answered on 1 (5) and 5 (3)
    # CSAT: 5 is great, 3 is not: 1 of 2; happiness: 50 % great - 0 % not good
    assert data["satisfaction"] == {"answers": 2, "average": 4.0, "csat": 0.5, "happiness": 50.0, "surveys_sent": 3,
                                    "surveys_answered": 2, "response_rate": 0.6667}
    # business-hours SLA: 5 (urgent, 7200 > 1 h) and 4 (high, unanswered: Thu 09:00 → end of
    # the week = 16 business hours > 4 h) breach; 3 (urgent) took no business time at all
    assert data["sla"] == {
        "clock": "business", "targets_hours": {"urgent": 1.0, "high": 4.0, "normal": 24.0, "low": 72.0},
        "checked": 7, "breached": 2, "rate": 0.2857,
        "by_priority": {"urgent": {"checked": 2, "breached": 1}, "high": {"checked": 2, "breached": 1},
                        "normal": {"checked": 3, "breached": 0}, "low": {"checked": 0, "breached": 0}},
    }
    assert data["trend"] == {"bucket": "day", "rows": [
        {"start": "2026-11-02", "opened": 1, "solved": 2},
        {"start": "2026-11-03", "opened": 1, "solved": 0},
        {"start": "2026-11-04", "opened": 0, "solved": 0},
        {"start": "2026-11-05", "opened": 1, "solved": 1},
        {"start": "2026-11-06", "opened": 2, "solved": 1},
        {"start": "2026-11-07", "opened": 1, "solved": 0},
        {"start": "2026-11-08", "opened": 1, "solved": 0},
    ]}


def test_summary_calendar_sla(desk, week):
    data = summary(desk, fx.config(reports={"sla_clock": "calendar"}), week)
    # calendar: 1 5400 ≤ 24 h; 2 234000 > 4 h; 3 57600 > 1 h; 4 unanswered Thu 09:00 → Mon 00:00
    # = 87 h > 4 h; 5 7200 > 1 h; 7 1200; 9 43200 ≤ 24 h
    assert data["sla"]["breached"] == 4
    assert data["sla"]["by_priority"]["urgent"] == {"checked": 2, "breached": 2}


def test_summary_filters(desk, week):
    billing = summary(desk, fx.config(), week, Filters(tag="billing"))
    assert (billing["opened"], billing["solved"], billing["backlog"]) == (2, 2, 0)
    assert billing["first_response"]["calendar"]["median"] == (5400 + 57600) / 2
    assert billing["one_touch"] == {"count": 1, "rate": 0.5}
    assert billing["reopened"] == {"count": 1, "rate": 0.5}
    chat = summary(desk, fx.config(), week, Filters(channel="chat"))
    assert (chat["opened"], chat["solved"], chat["backlog"]) == (4, 1, 3)
    ana = summary(desk, fx.config(), week, Filters(agent="ana"))
    assert (ana["opened"], ana["solved"], ana["backlog"]) == (3, 3, 1)
    assert ana["satisfaction"]["surveys_sent"] == 2


def test_tag_filter_matches_whole_tags_however_the_json_was_written(desk, week):
    # raw SQL on purpose: tags as another JSON encoder writes them (1); 3 holds a tag that only contains "vip"
    with desk.d.tx():  # raw SQL on purpose
        desk.d.conn.execute("""UPDATE conversations SET tags = '["caf\\u00e9", "billing"]' WHERE id = 1""")
        desk.d.conn.execute("""UPDATE conversations SET tags = '["x\\"vip", "vipx"]' WHERE id = 3""")
    assert summary(desk, fx.config(), week, Filters(tag="café"))["opened"] == 1
    assert summary(desk, fx.config(), week, Filters(tag="vip"))["opened"] == 1  # 5 only


def test_channels(desk, week):
    rows = channels(desk, fx.config(), week)["channels"]
    assert [r["channel"] for r in rows] == ["chat", "mail"]
    chat, mail = rows
    # chat: opened 2, 5, 7, 9; people wrote 2 16:30, 5, 7 twice, 9 (2's autoresponder does not count)
    assert (chat["opened"], chat["messages_in"], chat["solved"]) == (4, 5, 1)
    assert chat["first_response"] == {"answered": 4, "unanswered": 0,
                                      "calendar": {"median": (7200 + 43200) / 2, "p90": 234000},
                                      "business": {"median": (0 + 3600) / 2, "p90": 7200}}
    assert chat["resolution"]["calendar"] == {"median": 9000, "p90": 9000}
    # mail: opened 1, 3, 4; people wrote 1, 3 three times, 4
    assert (mail["opened"], mail["messages_in"], mail["solved"]) == (3, 5, 3)
    assert mail["first_response"]["calendar"] == {"median": (5400 + 57600) / 2, "p90": 57600}
    assert mail["first_response"]["business"]["median"] == (0 + 5400) / 2
    assert mail["first_response"]["unanswered"] == 1
    assert mail["resolution"]["calendar"] == {"median": 158400, "p90": 865800}
    assert mail["resolution"]["business"] == {"median": 18000, "p90": 171000}


def test_agents(desk, week):
    rows = agents(desk, fx.config(), week)["agents"]
    ana, bo = rows
    # replies in the week: ana on 1, 3, 3; bo on 3, 5, 7 (bo's on 2 and ana's on 9 came after it)
    # solved as assignee: ana 1, 3, 6; bo 5
    # first replies written: ana on 1 (5400 / 5400) and 9 (43200 / 0);
    #   bo on 2 (234000 / 3600), 3 (57600 / 0), 5 (7200 / 7200), 7 (1200 / 0)
    assert ana == {"agent": "ana", "replies": 3, "solved": 3, "first_responses": 2,
                   "first_response_median": {"calendar": (5400 + 43200) / 2, "business": 5400 / 2},
                   "satisfaction": {"answers": 1, "average": 5.0, "csat": 1.0, "happiness": 100.0,
                                    "surveys_sent": 2, "surveys_answered": 1,
                                    "response_rate": 0.5},
                   "oncall_hours": None}
    assert bo == {"agent": "bo", "replies": 3, "solved": 1, "first_responses": 4,
                  "first_response_median": {"calendar": (7200 + 57600) / 2, "business": (0 + 3600) / 2},
                  "satisfaction": {"answers": 1, "average": 3.0, "csat": 0.0, "happiness": 0.0,
                                   "surveys_sent": 1, "surveys_answered": 1,
                                   "response_rate": 1.0},
                  "oncall_hours": None}
    only = agents(desk, fx.config(), week, Filters(agent="bo"))["agents"]
    assert [r["agent"] for r in only] == ["bo"]


def test_agents_show_hours_on_call_from_the_schedule(desk, week, tmp_path):
    fx.build_oncall(desk)
    rows = {r["agent"]: r for r in agents(desk, fx.config(), week)["agents"]}
    # ana and bo have rows of their own; chen and dara were on call without any activity
    assert {name: r["oncall_hours"] for name, r in rows.items()} == fx.ONCALL_HOURS
    assert (rows["dara"]["replies"], rows["dara"]["solved"]) == (0, 0)
    assert [r["agent"] for r in agents(desk, fx.config(), week, Filters(agent="bo"))["agents"]] == ["bo"]
    # a person is also the agent named by their roster name; the hours are counted once
    roster = tmp_path / "oncall.toml"
    roster.write_text('[people.bo]\nname = "Bo Chen"\ncontact = "command"\nnotify_cmd = "true"\n')
    with desk.d.tx():  # raw SQL on purpose: the fixture's history, as if bo had always signed "Bo Chen"
        desk.d.conn.execute("UPDATE messages SET author = 'Bo Chen' WHERE author = 'bo'")
        desk.d.conn.execute("UPDATE conversations SET assignee = 'Bo Chen' WHERE assignee = 'bo'")
    named = {r["agent"]: r["oncall_hours"] for r in agents(desk, fx.config(oncall={"roster": str(roster)}),
                                                            week)["agents"]}
    assert named == {"ana": 9, "Bo Chen": 135, "chen": 24, "dara": 71}
    # a period reaching into the future counts the hours up to now
    future = make_period("2026-11-02", "2026-11-08", "Europe/Berlin", now=dt.datetime(2026, 11, 3, 9, tzinfo=fx.BERLIN))
    early = {r["agent"]: r["oncall_hours"] for r in agents(desk, fx.config(), future)["agents"]}
    assert early["ana"] == 9 and early["bo"] == 24 and "dara" not in early
    ahead = make_period("2026-11-02", "2026-11-08", "Europe/Berlin", now=dt.datetime(2026, 10, 1, tzinfo=fx.BERLIN))
    assert {r["oncall_hours"] for r in agents(desk, fx.config(), ahead)["agents"]} == {0}


def test_templates(desk, week):
    data = templates(desk, fx.config(), week)
    # outcomes as `templates stats` defines them (solved with no other reply first: closed;
    # the customer wrote within 3 days: reopened):
    #   t-refund on 1: solved at 12:00, nothing sent in between: closed
    #   t-refund on 3 (Wed 10:00): ana replied Thu 09:15 before the solve, customer wrote Wed 11:00: reopened
    #   t-refund on 7 (Sat 10:20): customer wrote at 10:40: reopened
    #   t-reset on 5: solved at 11:30 (the survey went out at the same moment, not before): closed
    #   t-old on 10 is older than the week
    assert data["templates"] == [
        {"template": "t-refund", "uses": 3, "closed": 1, "reopened": 2, "pending": 0, "close_rate": 0.3333,
         "satisfaction": {"answers": 1, "average": 5.0, "csat": 1.0, "happiness": 100.0}, "ready_to_automate": False},
        {"template": "t-reset", "uses": 1, "closed": 1, "reopened": 0, "pending": 0, "close_rate": 1.0,
         "satisfaction": {"answers": 1, "average": 3.0, "csat": 0.0, "happiness": 0.0}, "ready_to_automate": False},
    ]
    easy = fx.config(templates={"automate_min_uses": 1, "automate_min_close_rate": 0.8})
    ready = {r["template"]: r["ready_to_automate"] for r in templates(desk, easy, week)["templates"]}
    assert ready == {"t-refund": False, "t-reset": True}


def test_templates_agree_with_templates_stats(desk, week):
    from tui_desk.templates.stats import template_stats
    theirs = {s.template: s.as_json() for s in template_stats(desk, since=week.since, now=fx.NOW)}
    for row in templates(desk, fx.config(), week)["templates"]:
        assert (row["uses"], row["closed"], row["reopened"], row["close_rate"]) == tuple(
            theirs[row["template"]][k] for k in ("uses", "closed", "reopened", "close_rate"))


def test_hours(desk, week):
    data = hours(desk, fx.config(), week)
    grid = data["heatmap"]["counts"]
    cells = {(d, h): grid[d][h] for d in range(7) for h in range(24) if grid[d][h]}
    assert cells == {(0, 10): 1, (1, 18): 1, (2, 11): 1, (3, 9): 1, (3, 12): 1, (4, 9): 1, (4, 16): 1,
                     (5, 10): 2, (6, 20): 1}
    assert data["messages_in"] == 10
    # inside 09-17 on a working day: Mon 10, Thu 09, Thu 12, Fri 09, Fri 16:30; outside: Tue 18,
    # Wed 11 (holiday), Sat 10 twice, Sun 20
    assert data["outside_business_hours"] == {"count": 5, "share": 0.5}
    assert data["busiest"] == {"weekday": "Sat", "hour": 10, "messages": 2}
    # opened after hours and answered: 3 (57600 → 1800), 7 (1200 stays), 9 (43200 → 1800)
    assert data["what_if"] == {
        "oncall_minutes": 30, "answered": 6, "opened_after_hours": 3,
        "actual": {"median": (7200 + 43200) / 2, "p90": 234000},
        "with_oncall": {"median": (1800 + 5400) / 2, "p90": 234000},
    }
    assert hours(desk, fx.config(), week, what_if_minutes=10)["what_if"]["with_oncall"]["median"] == (600 + 5400) / 2


def test_hours_in_another_timezone(desk):
    # the same week read in UTC: every message an hour earlier on the clock
    utc = make_period("2026-11-01T23:00:00+00:00", "2026-11-08T23:00:00+00:00", "UTC", now=fx.NOW)
    grid = hours(desk, fx.config(), utc)["heatmap"]["counts"]
    assert grid[0][9] == 1 and grid[5][9] == 2 and grid[6][19] == 1
    assert sum(map(sum, grid)) == 10


def test_backlog(desk, week):
    data = backlog(desk, fx.config(), week)
    assert data["total"] == 4
    # ages at the end of the week (Mon 00:00): 9 4 h (solved later: counted as open),
    # 2 2 d 7.5 h, 7 1 d 14 h, 4 3 d 15 h
    assert data["by_age"] == [
        {"age": "< 1 day", "new": 0, "open": 1, "pending": 0, "snoozed": 0, "total": 1},
        {"age": "1-3 days", "new": 0, "open": 1, "pending": 1, "snoozed": 0, "total": 2},
        {"age": "3-7 days", "new": 1, "open": 0, "pending": 0, "snoozed": 0, "total": 1},
        {"age": "7-30 days", "new": 0, "open": 0, "pending": 0, "snoozed": 0, "total": 0},
        {"age": ">= 30 days", "new": 0, "open": 0, "pending": 0, "snoozed": 0, "total": 0},
    ]
    waiting = [(w["conversation"], w["status"], w["waiting_seconds"]) for w in data["waiting_longest"]]
    # the customer spoke last: 4 since Thu 09:00 (87 h), 2 since Fri 16:30 (55.5 h),
    # 7 since Sat 10:40 (37 h 20 m), 9 since Sun 20:00 (4 h)
    assert waiting == [(4, "new", 313200), (2, "open", 199800), (7, "pending", 134400), (9, "open", 14400)]
    assert data["waiting_longest"][0]["customer"] == "Customer 4"


def test_empty_desk_reports_nothing_without_failing(store, week):
    config = fx.config()
    data = summary(store, config, week)
    assert (data["opened"], data["solved"], data["backlog"]) == (0, 0, 0)
    assert data["first_response"]["calendar"] == {"median": None, "p90": None}
    assert data["one_touch"]["rate"] is None
    assert channels(store, config, week)["channels"] == []
    assert hours(store, config, week)["busiest"] is None
    assert backlog(store, config, week)["total"] == 0


def _reply_columns(store, cid):  # schema test: raw SQL on purpose (the columns the triggers keep)
    row = store.d.one("SELECT first_reply_at, first_reply_by, agent_replies, reopens FROM conversations WHERE id = ?",
                      (cid,))
    return tuple(row)


def test_reply_columns_follow_every_writer(desk):  # schema test: raw SQL on purpose (the triggers)
    # the fixture's own inserts went through the triggers
    assert _reply_columns(desk, 1) == (fx.b("2026-11-02 11:30"), "ana", 1, 0)
    assert _reply_columns(desk, 3) == (fx.b("2026-11-04 10:00"), "bo", 3, 1)
    assert _reply_columns(desk, 4) == (None, None, 0, 0)  # only an automatic acknowledgement
    # merging 5 into 4 moves 5's reply along: both conversations are recomputed
    desk.link_customers(4, 5, "ana")  # one person (merges across customers are refused)
    desk.merge(5, 4, "ana")
    assert _reply_columns(desk, 4) == (fx.b("2026-11-06 11:00"), "bo", 1, 0)
    assert _reply_columns(desk, 5)[:3] == (None, None, 0)
    # an earlier reply written later (a sync catching up) becomes the first
    with desk.d.tx():
        desk.d.conn.execute(
            "INSERT INTO messages (conversation_id, channel, direction, author, external_id, created_at, received_at)"
            " VALUES (4, 'chat', 'out', 'chen', 'late', ?, ?)", (fx.b("2026-11-05 09:30"), fx.b("2026-11-05 09:30")))
    assert _reply_columns(desk, 4) == (fx.b("2026-11-05 09:30"), "chen", 2, 0)
    with desk.d.tx():
        desk.d.conn.execute("DELETE FROM messages WHERE external_id = 'late'")
    assert _reply_columns(desk, 4) == (fx.b("2026-11-06 11:00"), "bo", 1, 0)


def test_a_customer_writing_to_a_solved_conversation_counts_as_reopen(desk):
    # the store's own status event (sync's "customer wrote") is what reports count
    desk.set_status(7, "solved", "bo")
    assert _reply_columns(desk, 7)[3] == 0
    desk.set_status(7, "open", "customer")
    assert _reply_columns(desk, 7)[3] == 1


def test_overview_is_what_a_reports_screen_shows(desk, week):
    from tui_desk.reports import overview
    data = overview(desk, fx.config(), week)
    assert set(data) == {"summary", "hours"}
    assert data["summary"]["opened"] == 7 and data["hours"]["messages_in"] == 10


def test_reports_never_import_textual():
    import subprocess
    import sys
    code = "import sys, tui_desk.reports, tui_desk.commands.reports; print('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def _conversations(store, created: list[str], solved: dict[int, str] | None = None) -> None:  # raw SQL on purpose
    # (conversations dated in the past: the store stamps each write with now)
    """Conversations created at these Berlin times; `solved`: index → solved_at (a stamp)."""
    solved = solved or {}
    with store.d.tx():
        for n, at in enumerate(created):
            store.d.conn.execute(
                "INSERT INTO conversations (channel, subject, status, created_at, last_message_at, solved_at)"
                " VALUES ('mail', ?, ?, ?, ?, ?)",
                (f"Trend {n}", "solved" if n in solved else "open", fx.b(at), fx.b(at), solved.get(n)))


def test_trend_days_follow_local_midnights_across_dst(store):
    # Berlin leaves summer time on Sunday 2026-10-25 at 03:00 (a 25-hour day)
    period = make_period("2026-10-24", "2026-10-26", "Europe/Berlin", now=fx.NOW)
    second_half_past_two = "2026-10-25T01:30:00.000Z"  # the second 02:30 of the day (CET)
    _conversations(store, ["2026-10-24 23:59:59", "2026-10-25 00:30", "2026-10-25 23:30", "2026-10-26 00:00",
                           "2026-10-23 12:00"], solved={4: second_half_past_two})
    assert summary(store, fx.config(), period)["trend"] == {"bucket": "day", "rows": [
        {"start": "2026-10-24", "opened": 1, "solved": 0},
        {"start": "2026-10-25", "opened": 2, "solved": 1},
        {"start": "2026-10-26", "opened": 1, "solved": 0},
    ]}


def test_trend_weeks_start_on_monday(store):
    period = make_period("2026-09-01", "2026-11-10", "Europe/Berlin", now=fx.NOW)  # 71 days: weekly
    _conversations(store, ["2026-10-25 23:30", "2026-10-26 00:00", "2026-09-01 08:00"])
    data = summary(store, fx.config(), period)["trend"]
    rows = {r["start"]: r["opened"] for r in data["rows"]}
    assert data["bucket"] == "week"
    assert rows["2026-08-31"] == 1 and rows["2026-10-19"] == 1 and rows["2026-10-26"] == 1
    assert sum(rows.values()) == 3 and min(rows) == "2026-08-31" and max(rows) == "2026-11-09"
