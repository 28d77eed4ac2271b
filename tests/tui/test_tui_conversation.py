"""The conversation screen with Pilot: card, merge, history, quotes, live updates, presence."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from tests.helpers import store_api
from tests.helpers.desk import AGENT, conversation_id, write_config
from tests.helpers.mail import deliver, make_email
from tests.helpers.tui import frozen_app, open_composer, open_conversation, queue, settle, visible_rows
from tui_desk import sync
from tui_desk.store import ListFilter, Store
from tui_desk.tui.screens.conversation import ConversationScreen, EventsScreen
from tui_desk.tui.screens.inbox import InboxScreen
from tui_desk.tui.screens.pickers import ConfirmScreen
from tui_desk.tui.widgets.card import CustomerCard
from tui_desk.tui.widgets.thread import MessageItem

pytestmark = pytest.mark.anyio


def card_text(app) -> str:
    return " ".join(str(s.render()) for s in app.screen.query_one(CustomerCard).query("Static"))


async def test_card_shows_customer_and_history(desk, db_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        text = card_text(app)
        assert "Mike Jones" in text and "mike@customer.example" in text and "Conversations" in text
        items = list(app.screen.query(MessageItem))
        assert any("quoted text (" in str(item.render()) for item in items)
        assert all(item.folded for item in items if item.quotes)
        await pilot.press("x")
        assert not any(item.folded for item in items)
        assert any("▾ quoted text" in str(item.render()) for item in items)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EventsScreen)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)


async def test_merge_asks_first_and_refuses_other_customers(desk, db_path, tmp_path):
    deliver(tmp_path / "mail", make_email("Mike Jones <mike@customer.example>", "Second parcel missing", "And this one?"))
    with Store.open(db_path) as store:
        sync.run(desk, store)
        source = conversation_id(store, "Second parcel")
        target = conversation_id(store, "Where is my order")  # Mike Jones too
        other = conversation_id(store, "Invoice")  # Ana Lima
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert queue(app).cache.total == 9
        await open_conversation(app, pilot, source)

        async def merge_into(number: int) -> None:
            await pilot.press("m")
            await settle(pilot)
            await pilot.press(*str(number), "enter")
            await settle(pilot)

        await merge_into(other)  # another customer's: asked with a warning naming who replies go to
        assert isinstance(app.screen, ConfirmScreen)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Merge 1 conversation of another customer? A reply goes to whoever wrote the message it answers." in shown
        assert ("different customers: Ana Lima <ana@example.br> and Mike Jones <mike@customer.example>; each keeps"
                " getting the replies to their own messages") in shown
        await pilot.press("escape")
        await settle(pilot)
        await merge_into(source)  # into itself: refused at once, nothing asked
        assert isinstance(app.screen, ConversationScreen)
        assert any("cannot merge a conversation into itself" in str(n.message) for n in app._notifications)
        await merge_into(target)
        assert isinstance(app.screen, ConfirmScreen)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Second parcel missing" in shown and "Where is my order?" in shown and "u right after undoes it" in shown
        assert "· 1 message" in shown and "different customers" not in shown
        await pilot.press("enter")  # the enter that closed the number dialog does not confirm
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        with Store.open(db_path) as store:
            assert store.conversation(source)["merged_into"] is None
            assert store.conversation(other)["merged_into"] is None
        await merge_into(target)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        with Store.open(db_path) as store:
            assert store.conversation(source)["merged_into"] == target
            assert len(store.messages(target)) == 2
        assert queue(app).cache.total == 8
        await open_conversation(app, pilot, other)
        await pilot.press("full_stop")  # a merge is never repeated without asking
        await settle(pilot)
        assert any("not repeated" in str(n.message) for n in app._notifications)
        with Store.open(db_path) as store:
            assert store.conversation(other)["merged_into"] is None


async def test_u_right_after_a_merge_across_customers_undoes_it(desk, db_path):
    with Store.open(db_path) as store:
        source = conversation_id(store, "Invoice")  # Ana Lima
        target = conversation_id(store, "Where is my order")  # Mike Jones
        before = [dict(store.conversation(c)) for c in (source, target)]
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, source)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*str(target), "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        with Store.open(db_path) as store:
            assert store.conversation(source)["merged_into"] == target
            assert store.recipient(target)[1] == "mike@customer.example"
        await pilot.press("u")
        await settle(pilot)
        assert any("Unmerged: #" in str(n.message) for n in app._notifications)
        with Store.open(db_path) as store:
            after = [dict(store.conversation(c)) for c in (source, target)]
            assert [m["text"] for m in store.messages(source)] == ["Can I get an invoice with our VAT id?"]
        for was, now in zip(before, after):
            assert {k: v for k, v in now.items() if k != "version"} == {k: v for k, v in was.items() if k != "version"}
        await pilot.press("u")  # nothing left to undo
        await settle(pilot)
        assert any("Nothing to undo" in str(n.message) for n in app._notifications)


async def test_live_update_from_another_process_keeps_the_cursor(desk, db_path, tmp_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        selected = queue(app).current["id"]
        deliver(tmp_path / "mail", make_email("New Person <new@example.org>", "Brand new question", "Hello?"))
        subprocess.run([sys.executable, "-c", "from tui_desk.cli import main; main()", "--config", str(tmp_path / "config.toml"),
                        "sync", "--quiet"], check=False, cwd=str(tmp_path), timeout=120,
                       env={**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[2])})
        app.poll_database()
        await settle(pilot)
        q = queue(app)
        assert q.cache.total == 9
        assert q.current["id"] == selected and q.cursor == 3  # the new one is on top; we stayed
        assert q.cache.row(0)["subject"] == "Brand new question"


async def test_presence_of_a_colleague_shows_on_the_card(desk, db_path, tmp_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    colleague = write_config(tmp_path, db_path)
    colleague.agent.name = "ana"
    mine, theirs = frozen_app(desk, db_path), frozen_app(colleague, db_path)
    async with mine.run_test(size=(120, 30)) as pilot, theirs.run_test(size=(120, 30)) as other:
        await settle(pilot)
        await settle(other)
        await open_conversation(theirs, other, cid)
        await open_conversation(mine, pilot, cid)
        assert "ana is viewing" in card_text(mine)
        await other.press("r")
        await settle(other)
        mine.poll_database()
        await settle(pilot)
        assert "ana is writing" in card_text(mine)
        await other.press("escape", "escape")
        await settle(other)
        mine.poll_database()
        await settle(pilot)
        assert "ana is" not in card_text(mine)


async def test_reply_is_queued_and_collision_holds_it(desk, db_path):
    outbox = pytest.importorskip("tui_desk.outbox")
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await open_composer(app, pilot, cid)
        await pilot.press(*"Sorry for the wait")
        with Store.open(db_path) as store:  # a colleague answers first, from the CLI
            outbox.queue_reply(store, cid, "It ships today.", agent="ana")
        await pilot.press("ctrl+s")
        await settle(pilot)
        from tui_desk.tui.screens.pickers import HeldReplyScreen
        assert isinstance(app.screen, HeldReplyScreen)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        with Store.open(db_path) as store:
            texts = [m["text"] for m in store.messages(cid) if m["direction"] == "out"]
            assert "Sorry for the wait" in texts and "It ships today." in texts
            queued = store_api.outbox(store)
            assert [o["conversation_id"] for o in queued].count(cid) == 2
            assert AGENT in {o["created_by"] for o in queued}


async def test_long_thread_opens_at_the_newest_and_mounts_older_on_scroll(desk, db_path):
    import datetime as dt

    from tui_desk.model import ParsedMessage
    from tui_desk.tui.widgets.thread import ThreadView

    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        customer = store.conversation(cid)["customer_id"]
        start = dt.datetime(2026, 5, 5, 9, 0, tzinfo=dt.timezone.utc)
        with store.transaction():
            for n in range(40):
                at = start + dt.timedelta(seconds=n)
                store.add_inbound("mail", ParsedMessage(
                    external_id=f"<long-{n}@x>", kind="email", sender_address="mike@customer.example",
                    sender_name="Mike Jones", received_at=at, created_at=at, subject="Where is my order?",
                    text=f"message number {n}\nsecond line", quoted="> earlier\n> text", raw=b""),
                    customer, cid, "where is my order")
        total = len(store.messages(cid))
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        thread = app.screen.query_one(ThreadView)
        texts = [str(item.render()) for item in thread.query(MessageItem)]
        assert 2 <= len(texts) < 20 and "message number 39" in texts[-1]  # newest mounted, at the bottom
        assert thread.scroll_y == thread.max_scroll_y > 0
        assert f"↑ {thread.first_mounted} earlier messages" in str(thread.query_one("#thread-earlier").render())
        await pilot.press("x")  # unfold all: messages mounted later come unfolded too
        mounted = len(texts)
        await pilot.press("k")  # scrolling up keeps the view where it was (older ones go above)
        await pilot.pause()
        assert thread.scroll_y == thread.max_scroll_y - 1
        for _ in range(20):  # to the top, mounting a batch each time
            if thread.first_mounted == 0:
                break
            thread.scroll_to(y=0, animate=False)
            await pilot.pause()
            await pilot.pause()
            assert thread.scroll_y > 0 or thread.first_mounted == 0  # kept its place, not thrown to the top
        items = list(thread.query(MessageItem))
        assert thread.first_mounted == 0 and len(items) == total > mounted
        assert "message number 0" in str(items[1].render())
        assert not any(item.folded for item in items)
        assert not thread.query_one("#thread-earlier").display


async def test_click_on_a_fold_opens_it_and_new_messages_are_added_below(desk, db_path, tmp_path):
    from tui_desk.tui.widgets.thread import ThreadView

    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        item = app.screen.query_one(MessageItem)
        assert item.folded
        for y in range(item.size.height):  # the fold line is somewhere under the text
            await pilot.click(item, offset=(3, y))
            if not item.folded:
                break
        assert not item.folded and "▾ quoted text" in str(item.render())
        deliver(tmp_path / "mail", make_email(subject="Re: Where is my order?", body="Still waiting.",
                                              in_reply_to="<fixture-0@customer.example>"))
        with Store.open(db_path) as store:
            from tui_desk.sync import run
            run(desk, store)
        app.poll_database()
        await settle(pilot)
        items = list(app.screen.query_one(ThreadView).query(MessageItem))
        assert items[0] is item and not item.folded  # kept, with its open fold
        assert len(items) == 2 and "Still waiting." in str(items[-1].render()) and not items[-1].quotes
        await pilot.press("x")  # none folded (the new message has no quote): fold all
        assert item.folded
        await pilot.press("x")
        assert not item.folded


async def test_link_the_customer_to_their_chat_handle(desk, db_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        [chat] = [c["id"] for c in store_api.conversations(store, ListFilter(channel="chat")) if "Sunday" in c["subject"]]
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        assert "@zoe:chat" not in card_text(app)
        await pilot.press("L")
        await settle(pilot)
        await pilot.press(*"@ZOE:chat", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # a preview of what moves, before anything does
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Zoe 🙂 <@zoe:chat> joins Mike Jones <mike@customer.example>" in shown
        assert "moves: 1 identities, 1 conversations, 1 messages" in shown and "Is the shop open on Sunday?" in shown
        await pilot.press("y")
        await settle(pilot)
        app.poll_database()  # as the console's timer would, once the link is committed
        await settle(pilot)
        text = card_text(app)
        assert "@zoe:chat" in text and f"#{chat}" in text  # the chat identity and conversation
        with Store.open(db_path) as store:
            assert store.conversation(chat)["customer_id"] == store.conversation(cid)["customer_id"]
        await pilot.press("c")  # the other conversation, by keyboard
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.conversation_id == chat
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        await open_conversation(app, pilot, cid)
        await pilot.press("L")
        await settle(pilot)
        await pilot.press(*"nobody@nowhere.example", "enter")
        await settle(pilot)
        assert any("No customer known as" in str(n.message) for n in app._notifications)


async def test_a_reply_that_may_have_been_sent_shows_in_the_queue_and_the_thread(desk, db_path):
    # left "uncertain" (SMTP DATA began, no 250 recorded): the console says so, in the
    # queue row and on the reply itself, with the outbox id to retry or cancel
    import datetime as dt

    from tui_desk.outbox import LEASE, UNCERTAIN_HINT, queue_reply
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        reply = queue_reply(store, cid, "It left yesterday.", agent=AGENT).outbox_id
        job = store.claim_due(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1), LEASE)
        assert job["outbox_id"] == reply
        store.mark_uncertain(reply)
        store.left_uncertain(reply, "channel mail: the connection broke after the message began",
                             dt.datetime.now(dt.timezone.utc))
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        rows = [row for row in visible_rows(app) if "Where is my order" in row]
        assert rows and "⚠ reply may have been sent" in rows[0]
        assert not any("may have been sent" in row for row in visible_rows(app) if "Where is my order" not in row)
        await open_conversation(app, pilot, cid)
        heads = [str(item.render()).split("\n")[0] for item in app.screen.query(MessageItem)]
        assert any(f"{UNCERTAIN_HINT} (outbox {reply})" in head for head in heads), heads


def held_texts(app) -> list[str]:
    from tui_desk.tui.screens.pickers import HeldReplyScreen
    assert isinstance(app.screen, HeldReplyScreen), app.screen
    return [m.get("text") for m in app.screen.newer]


def outbox_texts(db_path, cid: int) -> list[tuple[str, str]]:
    with Store.open(db_path) as store:
        return [(o["created_by"], o["text"]) for o in store_api.outbox(store) if o["conversation_id"] == cid]


async def test_a_kept_draft_is_held_when_a_colleague_answered_since_it_was_begun(desk, db_path, tmp_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    bo_config, ana_config = write_config(tmp_path, db_path), write_config(tmp_path, db_path)
    bo_config.agent.name, ana_config.agent.name = "bo", "ana"
    bo, ana = frozen_app(bo_config, db_path), frozen_app(ana_config, db_path)  # two consoles, one database
    async with bo.run_test(size=(120, 30)) as pilot, ana.run_test(size=(120, 30)) as other:
        await settle(pilot)
        await settle(other)
        await open_conversation(bo, pilot, cid)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"We will refund you", "escape")  # bo keeps the draft
        await settle(pilot)
        assert isinstance(bo.screen, ConversationScreen)
        await open_conversation(ana, other, cid)
        await other.press("a")  # ana takes it and answers
        await settle(other)
        await other.press("r")
        await settle(other)
        await other.press(*"Refund sent", "ctrl+s")
        await settle(other)
        assert outbox_texts(db_path, cid) == [("ana", "Refund sent")]
        bo.poll_database()  # bo's thread shows ana's reply; the draft was begun before it
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        from textual.widgets import TextArea
        assert bo.screen.query_one(TextArea).text == "We will refund you"  # the draft is back
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert held_texts(bo) == ["Refund sent"]
        assert outbox_texts(db_path, cid) == [("ana", "Refund sent")]
        await pilot.press("e")  # keep editing: bo has seen ana's reply now
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(bo.screen, ConversationScreen)
        assert outbox_texts(db_path, cid) == [("ana", "Refund sent"), ("bo", "We will refund you")]


async def test_a_template_reply_is_held_when_the_customer_wrote_after_the_thread_on_screen(desk, db_path, tmp_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid := conversation_id_of(db_path, "Where is my order"))
        deliver(tmp_path / "mail", make_email(subject="Re: Where is my order?", body="Found it, thanks!",
                                              in_reply_to="<fixture-0@customer.example>"))
        with Store.open(db_path) as store:  # synced, but not on screen yet (the watch has not ticked)
            from tui_desk.sync import run
            run(desk, store)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")  # the picker read the conversation afresh; the agent did not
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert held_texts(app) == ["Found it, thanks!"]
        assert outbox_texts(db_path, cid) == []


def conversation_id_of(db_path, subject_part: str) -> int:
    with Store.open(db_path) as store:
        return conversation_id(store, subject_part)


async def test_a_failed_reply_shows_in_the_thread_and_the_inbox_and_R_retries_it(desk, db_path):
    import datetime as dt

    from tui_desk import outbox
    from tui_desk.tui.widgets.sidebar import ViewsSidebar

    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        failed = outbox.queue_reply(store, cid, "It ships today.", agent=AGENT).outbox_id
        store.mark_failed(failed, "SMTP server refused the recipient: [b]x[/b]", None)
        waiting = outbox.queue_reply(store, cid, "And a tracking link.", agent=AGENT, undo_seconds=600).outbox_id
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(140, 34)) as pilot:
        await settle(pilot)
        row = next(r for r in visible_rows(app) if "Where is my order" in r)
        assert "✗ reply not sent" in row
        views = app.screen.query_one(ViewsSidebar)
        assert any("Not delivered" in str(views.get_option_at_index(i).prompt) for i in range(views.option_count))
        await open_conversation(app, pilot, cid)
        heads = [str(item.render()).split("\n")[0] for item in app.screen.query(MessageItem)]
        assert any("✗ not sent: SMTP server refused the recipient: [b]x[/b] (R retries)" in h for h in heads)
        assert any("queued, goes out" in h for h in heads)
        await pilot.press("R")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.outbox_item(failed)["state"] == "queued"
            assert store.outbox_item(waiting)["state"] == "queued"
        heads = [str(item.render()).split("\n")[0] for item in app.screen.query(MessageItem)]
        assert not any("✗ not sent" in h for h in heads), "the thread follows the outbox"
        await pilot.press("R")
        await settle(pilot)
        assert "No reply here failed" in str(list(app._notifications)[-1].message)


async def test_quit_asks_first_with_a_draft_or_a_reply_in_its_undo_window(desk, db_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await open_composer(app, pilot, cid)
        await pilot.press(*"half a thought")
        await pilot.press("escape")  # kept as a draft
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), "a draft would be lost"
        assert f"1 unsent draft (#{cid})" in " ".join(app.screen.lines)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.return_code is None
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the draft goes out, inside its undo window
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert any("the next sync sends it" in line for line in app.screen.lines)
        await pilot.press("y")
        await settle(pilot)
        assert app.return_code == 0
    with Store.open(db_path) as store:  # never stuck silently: it waits in the outbox for the next sync
        assert [r["state"] for r in store.outbox_items()] == ["queued"]


async def test_quit_with_nothing_pending_just_quits(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert app.return_code == 0


async def test_the_composer_keeps_the_customers_words_in_view_and_quotes_them_for_email(desk, db_path):
    from textual.widgets import TextArea
    with Store.open(db_path) as store:
        mail = conversation_id(store, "Where is my order")
        chat = store_api.conversation_ids(store, ListFilter(channel="chat"))[0]
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await open_composer(app, pilot, mail)
        shown = str(app.screen.query_one("#composer-context").render())
        assert "Mike Jones wrote" in shown and "my order 1234 has not arrived" in shown
        assert "old quote" not in shown, "the customer's own words, not the history they quoted"
        await pilot.press(*"Thanks! ", "ctrl+o")
        await settle(pilot)
        text = app.screen.query_one(TextArea).text
        assert text.startswith("Thanks! \n\nOn ") and "Mike Jones wrote:\n> Hi, my order 1234 has not arrived." in text
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not app.screen.query_one("#composer-context").display
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await open_composer(app, pilot, chat)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen.query_one(TextArea).text == ""
        assert "Chat replies do not quote" in str(list(app._notifications)[-1].message)


async def test_a_new_reply_starts_with_the_agents_signature_and_a_note_does_not(tmp_path, db_path):
    import dataclasses

    from textual.widgets import TextArea

    from tests.helpers.desk import build_desk
    desk = build_desk(tmp_path, db_path)
    desk = dataclasses.replace(desk, agent=dataclasses.replace(desk.agent, signature="Tess · Test desk"))
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await open_composer(app, pilot, cid)
        area = app.screen.query_one(TextArea)
        assert area.text == "\n\nTess · Test desk" and area.cursor_location == (0, 0)
        await pilot.press("escape", "escape")
        await settle(pilot)
        await open_composer(app, pilot, cid, "n")
        assert app.screen.query_one(TextArea).text == ""
async def test_the_card_offers_a_likely_match_and_links_it_after_a_preview(desk, db_path):
    from tests.helpers.desk import FROZEN_NOW
    from tui_desk.model import ParsedMessage
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        msg = ParsedMessage(external_id="w1", kind="chat", sender_address="widget:m1", sender_name="Mike Jones",
                            received_at=FROZEN_NOW, created_at=FROZEN_NOW, text="[bold]me[/] again", thread_key="w-1",
                            raw=b"x")
        with store.transaction():
            other = store.customer_for("chat", "widget:m1", "Mike Jones")
            store.add_inbound("chat", msg, other, None, "")
        store.d.conn.execute(  # raw SQL on purpose: no command writes a customer's notes yet
            "UPDATE customers SET notes = '[link=x]VIP[/link] since 2024' WHERE id = ?",
            (store.conversation(cid)["customer_id"],))
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        text = card_text(app)
        assert "likely also: Mike Jones (same name on chat within 3 days) · L links" in text
        assert "notes: [link=x]VIP[/link] since 2024" in text, "notes stay text"
        assert "customer.example" in text and "writes in en" in text
        with Store.open(db_path) as store:
            assert store.find_customer("widget:m1") == other, "suggested, not linked"
        await pilot.press("L")
        await settle(pilot)
        await pilot.press("enter")  # the first choice: the likely match
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Mike Jones <widget:m1> joins Mike Jones <mike@customer.example>" in shown and "chat: widget:m1" in shown
        await pilot.press("y")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.find_customer("widget:m1") == store.conversation(cid)["customer_id"]


async def test_the_composer_attaches_a_file_and_sends_copies_of_an_email_reply(desk, db_path, tmp_path):
    import email
    import email.policy

    from textual.widgets import Input, TextArea

    from tui_desk import outbox
    from tui_desk.tui.screens.pickers import InputScreen, PathSuggester
    (tmp_path / "invoices").mkdir()
    (tmp_path / "invoices" / "invoice-1234.pdf").write_bytes(b"%PDF-1.4 invoice")
    typed = str(tmp_path / "invoices" / "inv")
    assert await PathSuggester().get_suggestion(typed) == typed + "oice-1234.pdf"
    assert await PathSuggester().get_suggestion(str(tmp_path) + "/inv") == str(tmp_path) + "/invoices/"
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await open_composer(app, pilot, cid)
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert isinstance(app.screen, InputScreen)
        field = app.screen.query_one(Input)
        field.value = ""
        await pilot.press(*typed)  # typed as a person does: the completion follows
        await settle(pilot)
        assert field._suggestion == typed + "oice-1234.pdf"
        await pilot.press("right")  # take the completion
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        app.screen.query_one(Input).value = "accounts@customer.example, bcc:books@desk.example"
        await pilot.press("enter")
        await settle(pilot)
        shown = str(app.screen.query_one("#composer-to").render())
        assert "Cc: accounts@customer.example" in shown and "Bcc: books@desk.example" in shown
        assert "files: invoice-1234.pdf" in shown
        app.screen.query_one(TextArea).text = "Please find attached your invoice."
        await pilot.press("ctrl+s")
        await settle(pilot)
    with Store.open(db_path) as store:
        (item,) = store.outbox_items()
        assert outbox.deliver_due(desk, store, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)).sent == 1
    sent = [f for f in (tmp_path / "mail" / ".Sent" / "cur").iterdir()]
    copy = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
    assert copy["Cc"] == "accounts@customer.example" and copy["Bcc"] is None
    assert [p.get_filename() for p in copy.iter_attachments()] == ["invoice-1234.pdf"]


async def test_copies_offer_the_customers_own_cc_as_a_reply_to_all(desk, db_path, tmp_path):
    from textual.widgets import Input

    from tui_desk.tui.screens.pickers import InputScreen
    deliver(tmp_path / "mail", make_email(subject="Team invoice", message_id="<cc1@customer.example>",
                                          headers={"Cc": "Ann Lee <ann@customer.example>"}))
    with Store.open(db_path) as store:
        sync.run(desk, store)
        cid = conversation_id(store, "Team invoice")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await open_composer(app, pilot, cid)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(app.screen, InputScreen)
        assert app.screen.query_one(Input).value == "ann@customer.example"
        await pilot.press("enter")
        await settle(pilot)
        assert "Cc: ann@customer.example" in str(app.screen.query_one("#composer-to").render())
