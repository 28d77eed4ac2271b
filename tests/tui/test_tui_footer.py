"""The footer fits its keys to the width: `? Help` first with its label, shorter labels
from the end of the bar, and never a key cut off."""

from __future__ import annotations

import pytest

from tests.helpers.tui import frozen_app, settle
from tui_desk.tui.widgets.footer import PALETTE_WIDTH, Footer, fit_labels, key_width

pytestmark = pytest.mark.anyio

KEYS = [("?", "Help", ""), ("⏎", "Open", ""), ("a", "Assign me", "Me"), ("t", "Templates", "Tmpl"),
        ("/", "Search", ""), ("q", "Quit", "")]


def bar_width(labels: list[str], palette_label: str, palette: str = "^p") -> int:
    return sum(key_width(display, label) for (display, _, _), label in zip(KEYS, labels)) + \
        key_width(palette, palette_label) + PALETTE_WIDTH


def test_every_label_stays_when_the_bar_fits():
    full = [label for _, label, _ in KEYS]
    width = bar_width(full, "palette")
    assert fit_labels(KEYS, width, "^p") == (full, "palette")
    assert fit_labels(KEYS, width - 1, "^p") == (full, "")  # the palette's word goes first


def test_short_forms_then_bare_keys_come_from_the_end_of_the_bar():
    full = [label for _, label, _ in KEYS]
    labels, _ = fit_labels(KEYS, bar_width(full, "") - 1, "^p")
    assert labels == ["Help", "Open", "Assign me", "Tmpl", "Search", "Quit"]  # the last long one first
    labels, _ = fit_labels(KEYS, bar_width(["Help", "Open", "Me", "Tmpl", "Search", "Quit"], "") - 1, "^p")
    assert labels == ["Help", "Open", "Me", "Tmpl", "Search", ""]  # then the last label goes
    labels, _ = fit_labels(KEYS, 10, "^p")
    assert labels == ["Help", "", "", "", "", ""]  # Help keeps its word whatever the width


@pytest.mark.parametrize("width", [80, 120, 160])
async def test_the_inbox_footer_fits_at_each_width(desk, db_path, width):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(width, 40)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        keys = list(footer.children)
        assert (keys[0].key_display, keys[0].description) == ("?", "Help")
        actions = [k.action for k in keys]
        assert {"assign_to_me", "templates", "search", "quit"} <= set(actions)  # every key, none cut off
        assert keys[-1].region.right <= width and all(k.region.width > 0 for k in keys)
        labels = dict(zip(actions, (k.description for k in keys)))
        if width >= 160:
            assert labels["assign_to_me"] == "Assign me" and labels["search"] == "Search"
        elif width >= 120:
            assert labels["assign_to_me"] == "Me" and labels["status"] == "Status"
        else:
            assert labels["open"] == "Open" and labels["quit"] == ""


async def test_the_footer_refits_when_the_terminal_narrows(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert dict((k.action, k.description) for k in app.screen.query_one(Footer).children)["search"] == "Search"
        await pilot.resize_terminal(80, 40)
        await settle(pilot)
        keys = list(app.screen.query_one(Footer).children)
        assert keys[0].description == "Help" and dict((k.action, k.description) for k in keys)["search"] == ""
        assert keys[-1].region.right <= 80
