"""Template replies in the console with Pilot: the picker (`t`), digits that send at
once with an undo window, `u`, and templates whose slots must be filled first."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.helpers import store_api
from tests.helpers.bounded import run_child
from tests.helpers.desk import build_desk
from tests.helpers.hostile import HOSTILE_TEMPLATES
from tests.helpers.tui import frozen_app, open_order, queue, settle
from tui_desk import outbox, paths
from tui_desk.store import Store
from tui_desk.templates.quick import quick_choices
from tui_desk.tui.screens.composer import ComposerScreen
from tui_desk.tui.screens.conversation import ConversationScreen
from tui_desk.tui.screens.pickers import InputScreen
from tui_desk.tui.screens.templates import TemplatePickerScreen
from tui_desk.tui.widgets.quickbar import QuickBar

pytestmark = pytest.mark.anyio


def with_undo(config, seconds: int):
    return dataclasses.replace(config, templates=dataclasses.replace(config.templates, undo_seconds=seconds))


def outbox_rows(db_path, cid: int) -> list[dict]:
    with Store.open(db_path) as store:
        replies = {m["id"]: m for m in store.messages(cid)}
        return [{"state": o["state"], **{k: replies[o["message_id"]][k] for k in ("text", "template_id", "direction")}}
                for o in store_api.outbox(store) if o["conversation_id"] == cid]


def sent_copies(tmp_path) -> list:
    sent = tmp_path / "mail" / ".Sent"
    return [p for p in sent.rglob("*") if p.is_file()] if sent.exists() else []


def bar_text(app) -> str:
    return str(app.screen.query_one(QuickBar).render())


def digit_for(app, title: str) -> str:
    """The digit the quick bar shows beside `title`."""
    found = re.search(r"(\d)  " + re.escape(title) + "  ", bar_text(app))
    assert found, bar_text(app)
    return found.group(1)


async def test_digit_sends_the_pinned_template_and_u_takes_it_back(desk, db_path, tmp_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        assert "1  Order status" in bar_text(app)  # what each digit sends is shown beside it
        await pilot.press("1")
        await settle(pilot)
        [row] = outbox_rows(db_path, cid)
        assert row["state"] == "queued" and row["template_id"] == "order-status"
        assert row["text"].startswith("Hi Mike,") and "tester" in row["text"]
        with Store.open(db_path) as store:
            assert store.conversation(cid)["status"] == "pending"
        line = bar_text(app)
        assert "Sending “Order status” to Mike Jones <mike@customer.example> in" in line and "u undo" in line
        await pilot.press("u")
        await settle(pilot)
        [row] = outbox_rows(db_path, cid)
        assert row["state"] == "cancelled" and row["direction"] == "note"
        with Store.open(db_path) as store:
            assert store.conversation(cid)["status"] != "pending"  # the status it set is undone too
            assert outbox.deliver_due(desk, store).sent == 0
        assert sent_copies(tmp_path) == []  # nothing reached the channel
        assert "Sending" not in bar_text(app)


async def test_undo_after_delivery_is_refused_clearly(desk, db_path, tmp_path):
    app = frozen_app(with_undo(desk, 0), db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        await pilot.press("1")
        await settle(pilot)
        with Store.open(db_path) as store:  # (unless the console's own delivery worker was first)
            outbox.deliver_due(desk, store)
        assert outbox_rows(db_path, cid)[0]["state"] == "sent"
        await pilot.press("u")
        await settle(pilot)
        [row] = outbox_rows(db_path, cid)
        assert row["state"] == "sent"
        assert len(sent_copies(tmp_path)) == 1
        notes = [str(n.message) for n in app._notifications]
        assert any("already sent" in n and "cannot be taken back" in n for n in notes)


async def test_digit_in_the_inbox_answers_the_row_under_the_cursor(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        row = queue(app).current
        await pilot.pause(0.4)  # (a pause kept from when the quick bar polled the cursor)
        await settle(pilot)
        assert "1  Order status" in bar_text(app)
        await pilot.press(digit_for(app, "Closing – solved"))  # pinned: after the suggestions
        await settle(pilot)
        rows = outbox_rows(db_path, row["id"])
        assert [r["template_id"] for r in rows] == ["closing-solved"]


async def test_the_quick_bar_follows_the_cursor_and_a_digit_sends_what_it_showed(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        shown: dict[int, str] = {}
        while queue(app).current["id"] not in shown:  # every row, top to bottom
            await pilot.pause(0.3)  # CursorMoved starts the worker (the pause: from when a timer polled)
            await settle(pilot)
            shown[queue(app).current["id"]] = bar_text(app)
            await pilot.press("down")
            await settle(pilot)
        with Store.open(db_path) as store:
            expected = {cid: quick_choices(desk, store, app.data.library, cid) for cid in shown}
        for cid, line in shown.items():  # each row's bar is that row's suggestions, then the pinned
            assert line.startswith(" 1  " + expected[cid].digits[0].title + "  "), (cid, line)
        assert len({expected[cid].digits[0].id for cid in shown}) > 1  # and they differ between rows
        cid = next(c for c in shown if expected[c].digits[0].id != "order-status"
                   and "ask(" not in expected[c].digits[0].body)  # one that goes out as it is
        while queue(app).current["id"] != cid:
            await pilot.press("up")
        await pilot.pause(0.3)
        await settle(pilot)
        assert bar_text(app) == shown[cid]
        await pilot.press("1")
        await settle(pilot)
        assert [r["template_id"] for r in outbox_rows(db_path, cid)] == [expected[cid].digits[0].id]


async def test_template_with_slots_asks_then_opens_the_composer(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        await pilot.press(digit_for(app, "Refund issued"))  # asks for the order number and the amount
        await settle(pilot)
        assert outbox_rows(db_path, cid) == []  # a template with slots never goes out by itself
        answers = iter(["A-1234", "49.90 EUR", "extra"])
        for _ in range(5):
            if not isinstance(app.screen, InputScreen):
                break
            await pilot.press(*next(answers), "enter")
            await settle(pilot)
        assert isinstance(app.screen, ComposerScreen)
        text = app.screen.query_one("TextArea").text
        assert "order A-1234" in text and "issued 49.90 EUR" in text and "⟨" not in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        [row] = outbox_rows(db_path, cid)
        assert row["template_id"] == "refund-issued" and row["state"] == "queued"


async def test_picker_searches_previews_and_fills_the_composer(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        await pilot.press("t")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, TemplatePickerScreen)
        assert picker.shown[0].id == "order-status"  # the customer asked where the order is
        await pilot.press(*"pasword")  # a typo still finds it
        await settle(pilot)
        assert picker.current.id == "password-reset"
        preview = str(picker.query_one("#picker-text").render())
        assert "Hi Mike" in preview and "{{" not in preview
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ComposerScreen)
        area = app.screen.query_one("TextArea")
        assert area.text.startswith("Hi Mike")
        area.move_cursor(area.document.end)
        await pilot.press(*" Cheers", "ctrl+s")
        await settle(pilot)
        [row] = outbox_rows(db_path, cid)
        assert row["template_id"] == "password-reset" and row["text"].rstrip().endswith("Cheers")
        await pilot.press("u")  # a composed reply can be taken back too, and its words are kept
        await settle(pilot)
        assert outbox_rows(db_path, cid)[0]["state"] == "cancelled"
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one("TextArea").text.rstrip().endswith("Cheers")


async def test_picker_lists_the_suggestions_first_with_their_reason(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_order(app, pilot)
        bar = bar_text(app)
        await pilot.press("t")
        await settle(pilot)
        picker = app.screen
        labels = [str(picker.query_one("#picker-list").get_option_at_index(i).prompt) for i in range(4)]
        assert labels[0] == "1 Order status  ★ its keywords: where is my order"
        assert labels[1].startswith("2 Shipping delay  ★ its keywords:")
        assert [t.title for t in picker.shown[:3]] == re.findall(r"\d  (.+?)  ", bar)[:3]  # the bar's order
        assert "★" not in labels[3]  # the rest, as before: digit (if any), title, tags


async def test_picker_escape_sends_nothing(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"refund", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert outbox_rows(db_path, cid) == []


async def test_digit_held_when_the_conversation_changed(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        with Store.open(db_path) as store:  # a colleague answers meanwhile
            outbox.queue_reply(store, cid, "Already on it", agent="ana")
        await pilot.press("1")
        await settle(pilot)
        rows = outbox_rows(db_path, cid)
        assert [r["text"] for r in rows] == ["Already on it"]
        assert any("changed since you looked" in str(n.message) for n in app._notifications)


async def test_an_edited_template_takes_effect_without_a_restart(desk, db_path, tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(paths.shipped_data() / "templates", folder)
    config = dataclasses.replace(desk, templates=dataclasses.replace(desk.templates, dir=str(folder)))
    app = frozen_app(config, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_order(app, pilot)
        assert "1  Order status" in bar_text(app)
        page = folder / "order-status.md"
        page.write_text(page.read_text(encoding="utf-8").replace('title = "Order status"', 'title = "Where it is"'),
                        encoding="utf-8")
        await pilot.press("t")
        await settle(pilot)
        assert [t.title for t in app.screen.shown][0] == "Where it is"
        await pilot.press("escape")
        await settle(pilot)
        assert "1  Where it is" in bar_text(app)
        await pilot.press("1")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert [m["template_id"] for m in store_api.messages(store)].count("order-status") == 1


# -- hostile templates: the console stays responsive ----------------------------------

PICKED = ["power", "repeat-text", "nested-loops", "long-output"]


async def picker_with_hostile_templates(folder: Path) -> dict:
    """`t` on a library holding hostile templates: each one's preview, enter on one,
    escape, then q. Run in a bounded child process by the test below: before the
    limits, `t` froze the console (the first preview computed 9**999999999)."""
    db = folder / "desk.db"
    config = build_desk(folder, db)
    templates = folder / "templates"
    shutil.copytree(paths.shipped_data() / "templates", templates)
    for name in PICKED:  # the customer asks where the order is: these rank first
        (templates / f"{name}.md").write_text(
            f'+++\ntitle = "Hostile {name}"\nkeywords = ["where is my order"]\n+++\n{HOSTILE_TEMPLATES[name][0]}\n',
            encoding="utf-8")
    config = dataclasses.replace(config, templates=dataclasses.replace(config.templates, dir=str(templates)))
    app = frozen_app(config, db)
    seen: dict = {"previews": {}}
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_order(app, pilot)
        await pilot.press("t")
        await settle(pilot)
        picker = app.screen
        seen["picker_opened"] = isinstance(picker, TemplatePickerScreen)
        for name in PICKED:
            picker.query_one("#picker-query", Input).value = f"hostile {name}"
            await settle(pilot)
            seen["previews"][name] = [picker.current.id, str(picker.query_one("#picker-text").render())]
        await pilot.press("enter")  # take the last one: refused, and the picker stays
        await settle(pilot)
        seen["stayed_after_enter"] = app.screen is picker
        seen["notified"] = [str(n.message) for n in app._notifications]
        await pilot.press("escape")
        await settle(pilot)
        seen["back_on"] = type(app.screen).__name__
        await pilot.press("q")
        await settle(pilot)
        seen["return_code"] = app.return_code
    return seen


def test_hostile_templates_keep_the_console_responsive(tmp_path):
    done = run_child("import asyncio, json, sys\nfrom pathlib import Path\n"
                     "from tests.tui.test_tui_templates import picker_with_hostile_templates as session\n"
                     "print(json.dumps(asyncio.run(session(Path(sys.argv[1])))))", str(tmp_path), timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["picker_opened"]
    for name in PICKED:
        shown_id, preview = seen["previews"][name]
        assert shown_id == name
        assert "Cannot be sent" in preview and HOSTILE_TEMPLATES[name][1] in preview, preview
    assert seen["stayed_after_enter"]
    assert any("too much for a template" in n for n in seen["notified"])
    assert seen["back_on"] == "ConversationScreen"
    assert seen["return_code"] == 0  # q quit
