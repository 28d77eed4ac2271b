"""SVG snapshots of the console at 80×24 and 160×48 with the clock frozen.

Update them after an intended change with `pytest tests/tui/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.desk import build_desk
from tests.helpers.tui import frozen_app, open_order, settle

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def desk(tmp_path, db_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # message times are shown in local time
    time.tzset()
    yield build_desk(tmp_path, db_path)
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inbox(snap_compare, desk, db_path, size):
    assert snap_compare(frozen_app(desk, db_path), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_conversation(snap_compare, desk, db_path, size):
    async def run_before(pilot):
        await settle(pilot)
        await open_order(pilot.app, pilot)

    assert snap_compare(frozen_app(desk, db_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_composer(snap_compare, desk, db_path, size):
    async def run_before(pilot):
        await settle(pilot)
        await open_order(pilot.app, pilot)
        await pilot.press("r")
        await settle(pilot)
        pilot.app.screen.query_one("TextArea").cursor_blink = False
        await pilot.press(*"Hello Mike,")

    assert snap_compare(frozen_app(desk, db_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, desk, db_path, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(frozen_app(desk, db_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_template_picker(snap_compare, desk, db_path, size):
    async def run_before(pilot):
        await settle(pilot)
        await open_order(pilot.app, pilot)
        await pilot.press("t")
        await settle(pilot)
        pilot.app.screen.query_one("Input").cursor_blink = False
        await pilot.press(*"refund")
        await settle(pilot)

    assert snap_compare(frozen_app(desk, db_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES[1:], ids=lambda s: f"{s[0]}x{s[1]}")
def test_quick_bar_follows_the_cursor(snap_compare, desk, db_path, size):
    """Six rows down (the coupon chat): the bar shows its suggestion first, then the pinned."""
    async def run_before(pilot):
        await settle(pilot)
        for _ in range(5):
            await pilot.press("down")
            await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)

    assert snap_compare(frozen_app(desk, db_path), terminal_size=size, run_before=run_before)
