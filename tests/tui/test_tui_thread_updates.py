"""The open thread shows what this agent just wrote, however the reloads around it come back.

Every state change and every commit seen by the database watch reloads the conversation in
a thread worker; an older worker's answer can come back after a newer one (`StaleLoad`
makes that happen on purpose). A note or reply once saved must stay on screen."""

from __future__ import annotations

import pytest

from tests.helpers.tui import StaleLoad, anyio_backend, desk  # noqa: F401 (fixtures)
from tests.helpers.tui import frozen_app, open_order, settle
from tui_desk.store import Store
from tui_desk.tui.screens.composer import ComposerScreen
from tui_desk.tui.screens.conversation import ConversationScreen
from tui_desk.tui.widgets.thread import MessageItem, ThreadView

pytestmark = pytest.mark.anyio

ITERATIONS = 12
"""Each of the four steps' reloads is held three times. The hold forces the race every
time, so more rounds add run time (about 9 s each on a loaded 2-core machine), not cover."""


async def until_composer_closed(app, pilot) -> None:
    """Wait (bounded) for ctrl+s to be written and the composer to close."""
    for _ in range(1000):
        if not isinstance(app.screen, ComposerScreen):
            return
        await pilot.pause(0.01)
    raise AssertionError("the composer never closed")


def assert_last_on_screen(app, text: str) -> None:
    """`text` is the newest message of the open thread, and in view."""
    assert isinstance(app.screen, ConversationScreen)
    thread = app.screen.query_one(ThreadView)
    items = list(thread.query(MessageItem))
    assert items and items[-1].message["text"] == text, [i.message["text"] for i in items[-3:]]
    top = items[-1].virtual_region.y
    assert thread.scroll_y <= top < thread.scroll_y + thread.size.height, "scrolled out of view"


async def caught_up(app, pilot, gate) -> None:
    """A later reload (the watch's next tick) answers first: the agent sees the newest
    state before writing, and the held one is older than what is on screen."""
    await gate.settle(pilot)
    app.screen.reload()
    await gate.settle(pilot)


async def write_note(app, pilot, text: str) -> None:
    await pilot.press("n", *text, "ctrl+s")
    await until_composer_closed(app, pilot)
    app.poll_database()  # the console's one-second watch
    await settle(pilot)


async def test_a_late_older_reload_does_not_take_the_new_note_away(desk, db_path, monkeypatch):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        gate = StaleLoad(monkeypatch, app)
        gate.arm()
        await pilot.press("s", "down", "enter")  # a status change: its reload reads, then waits
        await gate.until_read()
        await caught_up(app, pilot, gate)
        await write_note(app, pilot, "checked with the warehouse")
        assert_last_on_screen(app, "checked with the warehouse")
        await gate.deliver(pilot)  # the status change's reload answers last, with the older state
        assert_last_on_screen(app, "checked with the warehouse")
        with Store.open(db_path) as store:
            assert store.messages(cid)[-1]["text"] == "checked with the warehouse"


async def test_note_after_status_tags_assign_snooze_shows_every_time(desk, db_path, monkeypatch):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:  # small: each key waits for the redraw
        await settle(pilot)
        await open_order(app, pilot)
        gate = StaleLoad(monkeypatch, app)
        steps = [("s", "down", "enter"), ("number_sign", "v", "enter"), ("a",), ("z", "enter")]
        for i in range(ITERATIONS):
            held_at = i % len(steps)  # each step's reload in turn answers after the note's
            for n, keys in enumerate(steps):
                if n == held_at:
                    gate.arm()
                await pilot.press(*keys)
                if n % 2:
                    app.poll_database()  # the watch ticks somewhere in between, too
            await gate.until_read()
            await caught_up(app, pilot, gate)
            text = f"n{i}"  # short: every key waits for the console to go idle
            await write_note(app, pilot, text)
            await gate.deliver(pilot)
            assert_last_on_screen(app, text)


async def test_two_answers_landing_together_are_shown_one_after_the_other(desk, db_path):
    import asyncio

    from tui_desk import outbox
    from tui_desk.tui.screens.conversation import load_bundle

    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        screen = app.screen
        with Store.open(db_path) as store:
            queued = outbox.queue_reply(store, cid, "On its way", agent="tester", undo_seconds=60)
        app.poll_database()
        await settle(pilot)
        with Store.open(db_path) as store:
            outbox.cancel(store, queued.outbox_id, "tester")  # the reply's row changes: a rebuild
            rebuilt = load_bundle(store, cid, "tester")
            outbox.queue_reply(store, cid, "called the carrier", agent="tester", note=True)
            newest = load_bundle(store, cid, "tester")
        # both answers reach the event loop at once (two workers finishing together)
        await asyncio.gather(screen._show(rebuilt), screen._show(newest))
        await settle(pilot)
        shown = [item.message["text"] for item in screen.query_one(ThreadView).query(MessageItem)]
        assert shown == [m["text"] for m in newest["messages"]]
        assert_last_on_screen(app, "called the carrier")


async def test_the_note_is_in_the_thread_when_the_composer_closes(desk, db_path):
    app = frozen_app(desk, db_path)  # the watch never ticks by itself here
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_order(app, pilot)
        await pilot.press("n", *"back Monday", "ctrl+s")
        await settle(pilot)
        assert_last_on_screen(app, "back Monday")


async def test_a_template_reply_is_in_the_thread_when_the_composer_closes(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_order(app, pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")  # the suggested "Order status"
        await settle(pilot)
        assert isinstance(app.screen, ComposerScreen)
        text = app.screen.query_one("TextArea").text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert_last_on_screen(app, text)
