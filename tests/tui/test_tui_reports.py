"""The Reports screen (`R` from the inbox) driven with Pilot, and its SVG snapshots.

It runs on the report fixture desk (tests/helpers/report_fixture.py) with the clock
frozen at the fixture's NOW, so the default period (4 weeks) covers the reported week.
Update the snapshots after an intended change with
`pytest tests/tui/test_tui_reports.py --snapshot-update`.
"""

from __future__ import annotations

import threading

import pytest
from rich.console import Console

from tests.helpers import report_fixture as fx
from tests.helpers.tui import settle
from tui_desk.errors import UsageError
from tui_desk.reports import make_period, overview
from tui_desk.reports.tables import Section
from tui_desk.store import Store
from tui_desk.tui import make_app
from tui_desk.tui.app import key_sections
from tui_desk.tui.screens import reports as reports_screen
from tui_desk.tui.screens.help import HelpScreen
from tui_desk.tui.screens.inbox import InboxScreen
from tui_desk.tui.screens.reports import ReportsScreen, section_table

SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def desk(db_path):
    with Store.open(db_path) as store:
        fx.build(store)
    return fx.config(agent={"name": "ana"})


def app_for(config, db_path):
    return make_app(config, db_path, clock=lambda: fx.NOW, poll_seconds=3600)


def expected(config, db_path) -> dict:
    period = make_period(None, None, config.desk.timezone, default=config.reports.default_period, now=fx.NOW)
    with Store.open(db_path) as store:
        return overview(store, config, period)


def shown(app) -> str:
    return "\n".join(text_of(s.content) for s in app.screen.query("Static") if s.content)


def text_of(renderable, width: int = 200) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


@pytest.mark.anyio
async def test_r_opens_reports_with_the_overview_figures(desk, db_path):
    app = app_for(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        want = expected(desk, db_path)
        assert screen.figures == want
        summary_text = text_of(screen.query_one("#reports-summary").content)
        hours_text = text_of(screen.query_one("#reports-hours").content)
        opened = next(line for line in summary_text.splitlines() if "conversations opened" in line)
        assert opened.split()[-1] == str(want["summary"]["opened"])
        assert f"Volume per hour ({desk.desk.timezone})" in hours_text
        busiest = want["hours"]["busiest"]
        assert f"Busiest: {busiest['weekday']} {busiest['hour']:02d}:00 ({busiest['messages']} messages)" in hours_text
        # the heatmap row of the busiest hour shows that count in the busiest weekday's column
        days = want["hours"]["heatmap"]["weekdays"]
        row = next(line.split() for line in hours_text.splitlines() if line.split()[:1] == [f"{busiest['hour']:02d}"])
        assert row[1 + days.index(busiest["weekday"])] == str(busiest["messages"])
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)


@pytest.mark.anyio
async def test_figures_load_in_a_worker_while_the_console_answers(desk, db_path, monkeypatch):
    release = threading.Event()

    def slow_overview(store, config, period):
        assert release.wait(10), "the test never released the worker"
        return overview(store, config, period)

    monkeypatch.setattr(reports_screen, "overview", slow_overview)
    app = app_for(desk, db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ReportsScreen)
        assert "Computing the figures" in shown(app)
        await pilot.press("question_mark")  # keys still work while the figures are computed
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert app.screen.figures == expected(desk, db_path)
        assert "Computing the figures" not in shown(app)


@pytest.mark.anyio
async def test_a_failure_is_shown_on_the_screen(desk, db_path, monkeypatch):
    def broken(store, config, period):
        raise UsageError("[bold]no such period[/bold]")

    monkeypatch.setattr(reports_screen, "overview", broken)
    app = app_for(desk, db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert "Could not compute the reports: [bold]no such period[/bold]" in shown(app)
        assert app.is_running


def test_untrusted_names_stay_text():
    hostile = "[link=https://example.invalid]x[/link] \x1b[2J[@click=app.quit]q[/]"
    section = Section("Channels", [("channel", "text"), ("opened", "int")], [[hostile, 3]])
    out = text_of(section_table(section))
    assert "[link=https://example.invalid]x[/link] [@click=app.quit]q[/]" in out
    assert "\x1b" not in out


def test_reports_keys_are_in_help_and_the_palette():
    sections = dict(key_sections())
    assert "reports" in {b.id for b in InboxScreen.BINDINGS}
    assert {b.id for b in sections["Reports"]} == {"close_reports", "reload_reports"}


@pytest.mark.anyio
async def test_palette_lists_reports(desk, db_path):
    from tui_desk.tui.commands import DeskCommands

    app = app_for(desk, db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        provider = DeskCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]
        assert "inbox: reports: summary and volume per hour" in names


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_reports_snapshot(snap_compare, desk, db_path, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(app_for(desk, db_path), terminal_size=size, run_before=run_before)
