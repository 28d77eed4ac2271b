"""The inbox screen driven with Pilot: views, counts, keys, bulk actions, search, filter."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.text import Text

from tests.helpers.desk import AGENT, HOSTILE, build_desk, conversation_id
from tests.helpers.tui import frozen_app, queue, settle, visible_rows
from tui_desk.errors import ConfigError
from tui_desk.store import Store
from tui_desk.store.inbox import InboxQuery
from tui_desk.tui.screens.conversation import ConversationScreen
from tui_desk.tui.screens.help import HelpScreen
from tui_desk.tui.screens.inbox import InboxScreen
from tui_desk.tui.widgets.sidebar import ViewsSidebar


pytestmark = pytest.mark.anyio


async def test_inbox_lists_open_conversations_with_counts(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        rows = visible_rows(app)
        assert len(rows) == 8
        assert "Is the shop open on Sunday?" in rows[0]  # latest activity first
        assert "Password reset" in rows[-1]
        counts = app.screen.query_one(ViewsSidebar).counts
        assert counts["unassigned"] == 8 and counts["mine"] == 0 and counts["channel:mail"] == 6


async def test_untrusted_text_is_shown_as_text(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        line = next(r for r in visible_rows(app) if "refund" in r)
        assert "[bold red]x[/]" in line and "[link=https://example.invalid]x[/link]" in line
        assert all("\x1b" not in r and "\x07" not in r for r in visible_rows(app))
        q = queue(app)
        q.cursor = next(i for i in range(q.cache.total) if "refund" in q.cache.row(i)["subject"])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static, MessageItem"))
        assert "[@click=app.quit]quit[/]" in shown and "\x1b" not in shown
        assert app.is_running


async def test_notifications_show_untrusted_text_as_text(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 30), notifications=True) as pilot:  # toasts really drawn
        await settle(pilot)
        app.notify(Text("Sync: " + " ".join(HOSTILE)), title="[b]x[/b]")  # e.g. a server's error text
        app.screen.notify("#7 [@click=app.quit]quit[/]")  # widgets' notify goes through the app's
        await settle(pilot)
        toasts = " ".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "[bold red]x[/]" in toasts and "[@click=app.quit]quit[/]" in toasts and "[b]x[/b]" in toasts
        assert "\x1b" not in toasts and "\x07" not in toasts
        assert app.is_running


async def test_wide_characters_keep_columns(desk, db_path):
    from rich.cells import cell_len
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        q = queue(app)
        strips = [q.render_line(y) for y in range(q.cache.total)]
        assert {s.cell_length for s in strips} == {q.size.width}
        for strip in strips:  # the status column starts at the same cell on every row
            text = strip.text
            assert cell_len(text[:text.index(" new ")]) == cell_len(strips[0].text[:strips[0].text.index(" new ")])


async def test_move_open_and_back(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "k")
        assert queue(app).cursor == 1
        second = queue(app).current["id"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.conversation_id == second
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert queue(app).current["id"] == second
        assert not queue(app).current["unread"]  # opened: read for this agent


async def test_assign_to_me_and_mine_view(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        target = queue(app).current["id"]
        await pilot.press("a")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(target)["assignee"] == AGENT
        assert app.screen.query_one(ViewsSidebar).counts["mine"] == 1


async def test_bulk_status_with_marks_and_repeat(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        q = queue(app)
        first, second = q.cache.row(0)["id"], q.cache.row(1)["id"]
        await pilot.press("space", "space")  # marks move down
        assert q.marked == {first, second}
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("j", "enter")  # "pending" is the second choice
        await settle(pilot)
        with Store.open(db_path) as store:
            assert {store.conversation(i)["status"] for i in (first, second)} == {"pending"}
        assert not q.marked
        third = q.current["id"]
        await pilot.press("full_stop")  # repeat on the row under the cursor
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(third)["status"] == "pending"


async def test_tags_make_a_view(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        target = queue(app).current["id"]
        await pilot.press("number_sign")
        await settle(pilot)
        await pilot.press(*"+vip", "enter")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(target)["tags"] == ["vip"]
        sidebar = app.screen.query_one(ViewsSidebar)
        assert sidebar.counts["tag:vip"] == 1
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index("tag:vip")
        await pilot.press("enter")
        await settle(pilot)
        assert queue(app).cache.total == 1


async def test_search_filter_and_sort(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"coupon", "enter")
        await settle(pilot)
        assert queue(app).cache.total == 1 and "coupon" in queue(app).current["subject"]
        await pilot.press("escape")
        await settle(pilot)
        assert queue(app).cache.total == 8
        await pilot.press("f")
        await settle(pilot)
        await pilot.press(*"invoice", "enter")
        await settle(pilot)
        assert queue(app).cache.total == 1
        await pilot.press("escape", "o")
        await settle(pilot)
        assert "Password reset" in queue(app).current["subject"]  # longest waiting first


async def test_search_results_in_relevance_order(desk, db_path):
    import datetime as dt

    from tui_desk.model import ParsedMessage
    at = dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)  # older than every conversation: activity stays
    with Store.open(db_path) as store, store.transaction():
        for n, (subject, text) in enumerate([("Where is my order", "and a parcel"),
                                             ("Password reset", "parcel parcel parcel")]):
            cid = conversation_id(store, subject)
            store.add_inbound("mail", ParsedMessage(
                external_id=f"<parcel-{n}@x>", kind="email", sender_address="x@example.com", sender_name="X",
                received_at=at, created_at=at, subject=f"{subject} parcel" * (n + 1), text=text, raw=b""),
                None, cid, subject)
    with Store.open(db_path) as store:
        expected = list(store.search_conversations("parcel"))
        by_activity = [r["id"] for r in store.inbox_page(InboxQuery(agent=AGENT, view="all"), limit=100)]
    assert len(expected) == 2 and expected != [i for i in by_activity if i in expected]
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"parcel", "enter")
        await settle(pilot)
        q = queue(app)
        assert [q.cache.row(i)["id"] for i in range(q.cache.total)] == expected
        assert "by relevance" in app.screen.sub_title
        await pilot.press("o")  # then by activity, and back
        await settle(pilot)
        assert "by last activity" in app.screen.sub_title and q.cache.total == len(expected)
        await pilot.press("o", "o")
        await settle(pilot)
        assert [q.cache.row(i)["id"] for i in range(q.cache.total)] == expected


async def test_snooze_then_customer_reply_brings_it_back(desk, db_path, tmp_path):
    from tests.helpers.mail import deliver, make_email
    from tui_desk.sync import run
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with Store.open(db_path) as store:
            target = conversation_id(store, "Where is my order")
        q = queue(app)
        q.cursor = next(i for i in range(q.cache.total) if q.cache.row(i)["id"] == target)
        await pilot.press("z")
        await settle(pilot)
        await pilot.press("enter")  # 1 hour
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(target)["status"] == "snoozed"
        assert q.cache.total == 7
        deliver(tmp_path / "mail", make_email(subject="Re: Where is my order?", body="Any news?",
                                              in_reply_to="<fixture-0@customer.example>"))
        with Store.open(db_path) as store:
            run(desk, store)
        app.poll_database()
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(target)["status"] == "open"
        assert q.cache.total == 8


async def test_help_and_palette(desk, db_path):
    from tui_desk.tui.commands import DeskCommands
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        names = [name for name, _, _ in DeskCommands(app.screen)._commands()]
        assert "inbox: assign to me" in names and "desk: quit tui-desk" in names
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        pane = app.screen.query_one("#help")
        assert pane.max_scroll_y > 0, "the key list is longer than 40 lines"
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert pane.scroll_y == 3
        await pilot.press("k")
        await pilot.pause()
        assert pane.scroll_y == 2
        await pilot.press("G")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert pane.scroll_y == 0
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)


async def test_keys_rebind_from_config(tmp_path, db_path):
    desk = build_desk(tmp_path, db_path, keys={"assign_to_me": "y"})
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        target = queue(app).current["id"]
        await pilot.press("a")  # no longer bound
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(target)["assignee"] is None
        await pilot.press("y")
        await settle(pilot)
        with Store.open(db_path) as store:
            assert store.conversation(target)["assignee"] == AGENT


def test_unknown_key_action_is_a_config_error(tmp_path, db_path):
    desk = build_desk(tmp_path, db_path, keys={"launch_rockets": "x"})
    with pytest.raises(ConfigError, match="keys.launch_rockets"):
        frozen_app(desk, db_path)


def test_hostile_fixture_covers_the_brief():
    assert "\x1b[2J" in HOSTILE and "[link=https://example.invalid]x[/link]" in HOSTILE


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_narrow_terminal_keeps_the_queue_readable(desk, db_path, size):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        sidebar, q = app.screen.query_one(ViewsSidebar), queue(app)
        if size[0] < 100:
            assert app.screen.has_class("-narrow") and sidebar.outer_size.width == 18 and q.size.width >= 60
        else:
            assert app.screen.has_class("-wide") and sidebar.outer_size.width == 22
        labels = [str(sidebar.get_option_at_index(i).prompt) for i in range(sidebar.option_count)]
        assert all(cell_len(label) <= sidebar.size.width for label in labels)
        assert labels[0].split()[0] == "Unassigned"  # whole, not cut
        assert any(label.startswith("✉ mail") for label in labels) and any(label.startswith("💬 chat") for label in labels)
        row = next(r for r in visible_rows(app) if "Where is my order" in r)
        assert "Mike Jones" in row and " new " in row


async def test_footer_follows_the_keys_and_is_not_rebuilt_for_nothing(desk, db_path):
    from textual.widgets._footer import FooterKey

    from tui_desk.tui.widgets.footer import Footer

    def keys(app) -> list[FooterKey]:
        return list(app.screen.query_one(Footer).query(FooterKey))

    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        before = keys(app)
        assert "Open" in [k.description for k in before]  # the queue has focus
        app.screen.refresh_bindings()  # nothing changed: the same key widgets stay
        await settle(pilot)
        assert keys(app) == before
        await pilot.press("tab")  # the sidebar: the queue's keys go
        await settle(pilot)
        assert "Open" not in [k.description for k in keys(app)]
        await pilot.press("tab")
        await settle(pilot)
        assert "Open" in [k.description for k in keys(app)] and keys(app) != before


async def test_a_group_rules_route_to_is_a_view_with_its_count(desk, db_path):
    import dataclasses

    from tui_desk.config import GroupSection
    from tui_desk.rules.runner import run_pending
    from tui_desk.rules.spec import load_rules
    config = dataclasses.replace(desk, groups=[GroupSection("billing", ["ana"], "manual")], rules=[
        {"id": "billing", "on": ["timer"], "all": [{"field": "subject", "contains": "invoice"}],
         "actions": [{"assign": "group:billing"}]}])
    with Store.open(db_path) as store:
        target = conversation_id(store, "nvoice")
        run_pending(config, store, load_rules(config))  # the timer rule routes what is there
        assert store.conversation(target)["group_name"] == "billing"
    app = frozen_app(config, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        sidebar = app.screen.query_one(ViewsSidebar)
        assert sidebar.counts["group:billing"] == 1
        assert "@ billing" in str(sidebar.get_option("group:billing").prompt)
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index("group:billing")
        await pilot.press("enter")
        await settle(pilot)
        assert queue(app).cache.total == 1 and queue(app).current["id"] == target


async def test_an_open_page_shows_a_banner_and_bang_acknowledges_it(desk, db_path):
    from tui_desk.tui.widgets.pages_banner import PagesBanner
    with Store.open(db_path) as store:
        target = conversation_id(store, "nvoice")
        with store.transaction():
            page_id, _ = store.page_request(target, "urgent", "oncall",
                                            {"customer": "ana@example.br", "subject": "[b]Invoice[/b] \x1b[31mdown",
                                             "lines": []}, "2026-03-02T10:00:00.000Z")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one(PagesBanner)
        shown = str(banner.render())
        assert banner.display and f"1 open page: #{target} [b]Invoice[/b] down" in shown and "\x1b" not in shown
        await pilot.press("exclamation_mark")
        await settle(pilot)
        with Store.open(db_path) as store:
            page = store.page(page_id)
        assert (page["state"], page["acked_by"], page["acked_via"]) == ("acknowledged", AGENT, "console")
        assert not banner.display


async def test_the_chosen_theme_is_kept_after_a_restart(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme != "nord"
        app.theme = "nord"  # what the palette's "Change theme" does
        await settle(pilot)
    again = frozen_app(desk, db_path)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_an_empty_desk_says_how_to_add_a_channel(tmp_path, db_path):
    from tui_desk import config as config_mod
    from tui_desk.store import Store as _Store
    with _Store.open(db_path):
        pass
    bare = config_mod.from_dict({"agent": {"name": AGENT}}, tmp_path / "config.toml")
    app = frozen_app(bare, db_path)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        line = queue(app).render_line(0).text
        assert "No channels yet: add a [[channels]] table to" in line and str(tmp_path / "config.toml") in line


async def test_assign_lists_every_agent_of_the_config_from_the_first_day(tmp_path, db_path):
    import dataclasses

    from tui_desk.config import AgentEntry
    from tui_desk.tui.screens.pickers import ChoiceScreen
    desk = build_desk(tmp_path, db_path)
    desk = dataclasses.replace(desk, agents=[AgentEntry("ana"), AgentEntry("bo")])  # nobody has done anything yet
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert [label for _, label in app.screen.choices] == ["ana", "bo", AGENT, "nobody (unassign)"]
