"""The Reports screen (`R` in the inbox): the summary and the volume per hour for the
configured default period, as `tui-desk report summary` and `report hours` compute them.

The figures come from `tui_desk.reports.overview()` in a thread worker (over a large
desk that takes up to a second), so the console never waits for them. Every cell is a
Rich `Text` built from cleaned text: channel, agent and tag names never act as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from ...errors import DeskError
from ...hours import zone
from ...reports import make_period, overview
from ...reports.tables import Section, sections, value_text
from ...store import parse_stamp
from ...textsafe import one_line
from ..data import DeskData
from .base import DeskScreen

WIDE = 120  # from this many columns the summary and the hours stand side by side
SHADES = ["", "on #1d3b2a", "on #24583a", "on #2e7a4d", "on #3a9c60", "on #4cbf75"]


def section_table(section: Section, *, first_width: int | None = None) -> Table:
    """One report section as a Rich table; every cell a Text (no markup is read)."""
    table = Table(title=Text(section.title, style="bold"), title_justify="left", expand=False,
                  box=None, pad_edge=False, padding=(0, 1), show_header=len(section.columns) > 2)
    for i, (name, column_type) in enumerate(section.columns):
        table.add_column(Text(name), justify="left" if column_type == "text" else "right",
                         min_width=first_width if i == 0 else None, no_wrap=i > 0)
    for row in section.rows:
        table.add_row(*(Text(one_line(value_text(column_type, value))) for (_, column_type), value in zip(section.columns, row)))
    return table


def heatmap_table(hours: dict) -> Table:
    """Messages from customers per local hour (rows) and weekday (columns), shaded by volume."""
    heat = hours["heatmap"]
    counts = heat["counts"]
    top = max((max(day) for day in counts), default=0)
    table = Table(title=Text(f"Volume per hour ({one_line(hours['period']['timezone'])})", style="bold"),
                  title_justify="left", box=None, pad_edge=False, padding=(0, 1))
    table.add_column(Text("hour"), justify="right")
    for day in heat["weekdays"]:
        table.add_column(Text(day), justify="right", min_width=4)
    for h in heat["hours"]:
        cells = []
        for day in range(len(heat["weekdays"])):
            n = counts[day][h]
            shade = SHADES[-(-n * (len(SHADES) - 1) // top)] if top and n else ""
            cells.append(Text(str(n) if n else "·", style=shade))
        table.add_row(Text(f"{h:02d}"), *cells)
    return table


def summary_view(data: dict) -> Group:
    main, by_priority, _trend, weeks = sections(data["summary"])
    parts = [section_table(main), Text(""), section_table(by_priority)]
    if weeks.rows:  # CSAT, response rate and happiness per week, as `report summary` shows them
        parts += [Text(""), section_table(weeks)]
    return Group(*parts)


def hours_view(data: dict) -> Group:
    _grid, facts = sections(data["hours"])
    busiest = data["hours"]["busiest"]
    line = (Text(f"Busiest: {busiest['weekday']} {busiest['hour']:02d}:00 ({busiest['messages']} messages)")
            if busiest else Text("No messages from customers in this period"))
    return Group(heatmap_table(data["hours"]), line, Text(""), section_table(facts))


def period_line(data: dict, default: str) -> Text:
    """"2026-10-23 13:00 → 2026-11-20 13:00 Europe/Berlin (last 4w)": what the figures cover."""
    period = data["summary"]["period"]
    tz = zone(period["timezone"])
    since, until = (parse_stamp(period[k]).astimezone(tz).strftime("%Y-%m-%d %H:%M") for k in ("since", "until"))
    return Text(f"{since} → {until} {one_line(period['timezone'])} (last {one_line(default)})")


class ReportsScreen(DeskScreen):
    """Summary and volume per hour of the default period; loads in a worker."""

    DEFAULT_CSS = """
    ReportsScreen #reports-body { height: 1fr; padding: 0 1; }
    ReportsScreen #reports-period { color: $text-muted; margin-bottom: 1; }
    ReportsScreen #reports-columns { height: auto; }
    ReportsScreen #reports-columns > Static { width: 1fr; height: auto; margin-right: 2; }
    ReportsScreen.-narrow #reports-columns { layout: vertical; }
    ReportsScreen.-narrow #reports-columns > Static { width: 100%; margin-bottom: 1; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="close_reports", tooltip="Back to the inbox"),
        Binding("r", "reload", "Reload", id="reload_reports", tooltip="Compute the figures again"),
    ]

    @dataclass
    class Loaded(Message):
        """The worker computed the overview (summary and hours)."""

        data: dict

    def __init__(self, data: DeskData) -> None:
        super().__init__()
        self.data = data
        self.figures: dict | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="reports-body"):
            yield Static(Text("Computing the figures…"), id="reports-period")
            with Horizontal(id="reports-columns"):
                yield Static(id="reports-summary")
                yield Static(id="reports-hours")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.desk_app.desk_title
        self.sub_title = "Reports"
        self.query_one("#reports-body").focus()
        self.action_reload()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < WIDE, "-narrow")

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.query_one("#reports-period", Static).update(Text("Computing the figures…"))
        self._load()

    @work(thread=True, exclusive=True, group="reports", exit_on_error=False)
    def _load(self) -> None:
        config = self.data.config
        period = make_period(None, None, config.desk.timezone, default=config.reports.default_period,
                             now=self.data.now())
        with self.data.store() as store:
            figures = overview(store, config, period)
        self.post_message(self.Loaded(figures))

    @on(Loaded)
    def _show(self, event: Loaded) -> None:
        self.figures = event.data
        self.query_one("#reports-period", Static).update(period_line(event.data, self.data.config.reports.default_period))
        self.query_one("#reports-summary", Static).update(summary_view(event.data))
        self.query_one("#reports-hours", Static).update(hours_view(event.data))

    @on(Worker.StateChanged)
    def _failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "reports" and event.state == WorkerState.ERROR:
            error = event.worker.error
            text = str(error) if isinstance(error, DeskError) else f"{type(error).__name__}: {error}"
            self.query_one("#reports-period", Static).update(Text(f"Could not compute the reports: {one_line(text)}"))
