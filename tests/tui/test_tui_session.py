"""The console's session (tui/session.py): what one console remembers across its screens.

Unit tests of DeskSession without a terminal (and without Textual, checked in a
subprocess), then Pilot tests of what it is for: `.` in a conversation repeats a change
made in the inbox, and the inbox's quick bar follows the cursor by QueueList.CursorMoved,
with no timer polling it.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from tests.helpers.desk import conversation_id
from tests.helpers.tui import frozen_app, open_conversation, queue, settle
from tui_desk.store import Store
from tui_desk.templates.quick import quick_choices
from tui_desk.tui.session import UNDO_MEMORY, DeskSession, KeptDraft, PendingReply

from tests.conftest import ROOT

T0 = dt.datetime(2026, 5, 5, 10, 0, tzinfo=dt.timezone.utc)


def reply(outbox_id: int, deliver_at: dt.datetime, *, conversation_id: int = 7, from_composer: bool = False,
          text: str = "It ships today.") -> PendingReply:
    return PendingReply(outbox_id, conversation_id, "Order status", "Mike <mike@customer.example>", deliver_at,
                        text, from_composer=from_composer)


# -- the session as plain data ----------------------------------------------------------


def test_importing_the_session_does_not_import_textual():
    code = ("import sys, tui_desk.tui.session\n"
            "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_latest_thing_done_is_what_u_takes_back():
    session = DeskSession()
    assert session.take_undo() is None
    first, second = reply(1, T0 + dt.timedelta(seconds=10)), reply(2, T0 + dt.timedelta(seconds=20))
    session.track_reply(first, T0)
    session.track_reply(second, T0)
    session.remember_merge([4, 5])
    assert session.take_undo() == [4, 5]  # the merge came last
    assert session.take_undo() is second
    session.remember_merge([6])
    session.track_reply(reply(3, T0 + dt.timedelta(seconds=30)), T0)  # a reply after the merge: u takes it
    assert session.last_merge is None
    assert session.take_undo().outbox_id == 3
    assert session.take_undo() is first
    assert session.take_undo() is None


def test_replies_long_past_their_window_are_forgotten():
    session = DeskSession()
    session.track_reply(reply(1, T0), T0)
    session.track_reply(reply(2, T0 + UNDO_MEMORY), T0 + UNDO_MEMORY - dt.timedelta(seconds=1))
    assert [p.outbox_id for p in session.pending_replies] == [1, 2]  # sent, but u still answers "too late"
    session.track_reply(reply(3, T0 + 2 * UNDO_MEMORY), T0 + UNDO_MEMORY)
    assert [p.outbox_id for p in session.pending_replies] == [2, 3]
    assert [p.outbox_id for p in session.waiting(T0 + UNDO_MEMORY + dt.timedelta(seconds=1))] == [3]


def test_drafts_are_kept_forgotten_when_blank_and_restored_when_a_reply_is_taken_back():
    session = DeskSession()
    session.keep_draft((7, False), "Dear Mike,", seen_version=3)
    session.keep_draft((7, True), "called the carrier")
    assert session.draft((7, False)) == KeptDraft("Dear Mike,", 3)
    session.keep_draft((7, True), "  \n")  # nothing written: forgotten
    assert session.draft((7, True)) is None
    session.drop_draft((7, False))
    assert session.drafts == {}
    session.taken_back(reply(1, T0, from_composer=False))  # a digit's reply: nothing to restore
    assert session.drafts == {}
    session.taken_back(reply(2, T0, from_composer=True, text="Words kept"))
    assert session.draft((7, False)) == KeptDraft("Words kept")


def test_quit_reasons_name_the_drafts_and_the_replies_still_in_their_window():
    session = DeskSession()
    assert session.quit_reasons(T0) == []
    session.keep_draft((12, False), "half written")
    session.track_reply(reply(41, T0 + dt.timedelta(seconds=10), conversation_id=3), T0)
    session.track_reply(reply(40, T0 - dt.timedelta(seconds=1)), T0)  # gone out already: not a reason
    reasons = session.quit_reasons(T0, {9})
    assert reasons[0] == "2 unsent drafts (#9, #12) will be lost: they live only in this console"
    assert len(reasons) == 2 and "(#3) goes out at" in reasons[1] and "outbox cancel 41" in reasons[1]


def test_the_last_change_is_the_sessions_and_a_merge_is_marked():
    session = DeskSession()
    session.remember_change("status pending", lambda store, cid: None)
    assert session.last_change.label == "status pending" and not session.last_change.is_merge
    session.remember_change("merge into #4 (u undoes it)", lambda store, cid: None)
    assert session.last_change.is_merge


# -- in the console ---------------------------------------------------------------------

pilot_test = pytest.mark.anyio


@pilot_test
async def test_dot_in_a_conversation_repeats_a_change_made_in_the_inbox(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = queue(app).current["id"]
        with Store.open(db_path) as store:
            other = next(cid for cid in (conversation_id(store, "Invoice"), conversation_id(store, "Password"))
                         if cid != first)
            assert store.conversation(other)["status"] != "pending"
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("j", "enter")  # "pending", the second choice
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(first)["status"] == "pending"
        await open_conversation(app, pilot, other)
        await pilot.press("full_stop")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(other)["status"] == "pending"
        assert not any("No action to repeat" in str(n.message) for n in app._notifications)


def bar_text(app) -> str:
    from tui_desk.tui.widgets.quickbar import QuickBar
    return str(app.screen.query_one(QuickBar).render())


@pilot_test
async def test_the_inbox_follows_the_cursor_without_polling(desk, db_path, monkeypatch):
    from tui_desk.tui.screens.inbox import InboxScreen

    intervals = []  # the desk's own timers on the inbox screen (Textual keeps one of its own there)
    real = InboxScreen.set_interval

    def set_interval(self, interval, callback=None, *args, **kwargs):
        if getattr(callback, "__module__", "").startswith("tui_desk"):
            intervals.append((interval, callback.__qualname__))
        return real(self, interval, callback, *args, **kwargs)
    monkeypatch.setattr(InboxScreen, "set_interval", set_interval)
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert intervals == []  # the inbox sets no timer: the list says when the cursor moved
        with Store.open(db_path) as store:
            expected = {row["id"]: quick_choices(desk, store, app.data.library, row["id"])
                        for row in store.inbox_page(app.screen.query_state, limit=20)}
        for _ in range(3):  # no pause beyond the workers: the bar is drawn from the message alone
            cid = queue(app).current["id"]
            assert bar_text(app).startswith(" 1  " + expected[cid].digits[0].title + "  "), (cid, bar_text(app))
            await pilot.press("down")
            await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press(*"no-such-words", "enter")  # the view empties: nothing under the cursor
        await settle(pilot)
        assert queue(app).cache.total == 0
        assert " 1 " not in bar_text(app) and app.screen.suggested_for is None
        await pilot.press("escape")  # the rows come back, and the bar with them
        await settle(pilot)
        cid = queue(app).current["id"]
        assert bar_text(app).startswith(" 1  " + expected[cid].digits[0].title + "  ")
        assert intervals == []


@pilot_test
async def test_the_list_says_once_that_nothing_is_under_the_cursor(desk, db_path, monkeypatch):
    from tui_desk.tui.widgets.queue import QueueList

    moved: list[int | None] = []
    real = QueueList.post_message

    def post_message(self, message):
        if isinstance(message, QueueList.CursorMoved):
            moved.append(message.conversation_id)
        return real(self, message)
    monkeypatch.setattr(QueueList, "post_message", post_message)
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        q = queue(app)
        assert moved == [q.current["id"]]  # the first page arrived under the cursor
        q.reload()  # the same row under the cursor again: nothing to say
        await settle(pilot)
        q.set_query(app.screen.query_state.with_(text="no-such-words"))
        await settle(pilot)
        q.reload()  # still empty
        await settle(pilot)
        assert moved == [moved[0], None]


@pilot_test
async def test_suggestions_that_arrive_while_the_rows_are_read_again_are_shown(desk, db_path):
    from tui_desk.tui.replies import digit_choices

    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen, q = app.screen, queue(app)
        cid, other = q.cache.row(0)["id"], q.cache.row(1)["id"]
        with Store.open(db_path) as store:
            mine = quick_choices(desk, store, app.data.library, cid)
            theirs = quick_choices(desk, store, app.data.library, other)
        screen.load_suggestions(None)
        screen.suggesting = cid  # asked for the row under the cursor, then a reload began:
        q.cache.reset()  # no row is known under the cursor until its page is read again
        assert q.current is None
        screen._suggested(other, theirs, digit_choices(theirs))  # an older question's answer
        assert " 1 " not in bar_text(app)
        screen._suggested(cid, mine, digit_choices(mine))  # no timer would ask again: it is shown
        await pilot.pause()
        assert bar_text(app).startswith(" 1  " + mine.digits[0].title + "  ")
        assert screen.suggested_for == cid
