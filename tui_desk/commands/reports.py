"""`tui-desk report summary|channels|agents|templates|hours|backlog`.

Every report takes the same options: the period (--since/--until), filters (--channel,
--agent, --tag), the timezone days and hours are read in (--tz, default the desk's),
and --format table|csv|json|chart. Figures are defined in docs/reports.md.
"""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from .common import cell as plain_cell
from .common import known_name, one_of, options, out, print_json

app = typer.Typer(help="The numbers a small team steers by (see docs/reports.md).", no_args_is_help=True)

FORMATS = ("table", "csv", "json", "chart")
Since = Annotated[Optional[str], typer.Option("--since", help="Start: 7d, 4w, 3m, 1y ago, or a day (from its midnight) (default [reports] default_period).")]
Until = Annotated[Optional[str], typer.Option("--until", help="End: a day (included, to its end), a time, or 7d ago (default now).")]
ChannelOpt = Annotated[Optional[str], typer.Option("--channel", help="Only this channel.")]
AgentOpt = Annotated[Optional[str], typer.Option("--agent", help="Only conversations assigned to this agent ('me': you).")]
TagOpt = Annotated[Optional[str], typer.Option("--tag", help="Only conversations with this tag.")]
TzOpt = Annotated[Optional[str], typer.Option("--tz", help="Timezone for dates, days and hours (default [desk] timezone).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, csv, json or chart.")]


def _run(ctx: typer.Context, name: str, since, until, channel, agent, tag, tz, fmt: str, **extra) -> None:
    one_of("--format", fmt, FORMATS, "format")
    from .. import reports as reports_mod  # here, not at the top: other commands start faster
    opts = options(ctx)
    config = opts.config()
    period = reports_mod.make_period(since, until, tz or config.desk.timezone, default=config.reports.default_period)
    with opts.store() as store:
        filters = reports_mod.Filters(known_name("--channel", channel, "channel", config, store),
                                      known_name("--agent", agent, "agent", config, store),
                                      known_name("--tag", tag, "tag", config, store))
        data = reports_mod.REPORTS[name](store, config, period, filters, **extra)
    if fmt == "json":
        print_json(data)
    elif fmt == "csv":
        from ..reports.tables import sections
        _csv(sections(data)[0])
    elif fmt == "chart":
        from .report_charts import chart
        drawing = chart(data, color=sys.stdout.isatty())
        print(drawing if drawing else "nothing to chart in this period")
    else:
        _tables(data)


def cell(value: object) -> Text:
    """A rich table cell from untrusted text: cleaned, and never read as markup."""
    return Text(plain_cell(value))


def _tables(data: dict) -> None:
    from ..reports.tables import sections, value_text
    p = data["period"]
    out.print(f"{data['report']} · {p['since'][:16]} → {p['until'][:16]} UTC · days in {p['timezone']}", markup=False)
    filters = ", ".join(f"{k} {v}" for k, v in data["filters"].items() if v is not None)
    if filters:
        out.print(cell(f"filtered: {filters}"))
    for section in sections(data):
        grid = Table(*(name for name, _ in section.columns), title=section.title, title_justify="left",
                     header_style="bold", box=None, pad_edge=False)
        for column in grid.columns[1:]:
            column.justify = "right"
        for row in section.rows:
            grid.add_row(*(cell(value_text(column_type, v)) for (_, column_type), v in zip(section.columns, row)))
        if not section.rows:
            grid.add_row(cell("(none)"), *[cell("") for _ in section.columns[1:]])
        out.print()
        out.print(grid)


def _csv(section) -> None:
    from ..reports.tables import csv_row
    writer = csv.writer(sys.stdout)
    writer.writerow([f"{name} (seconds)" if column_type == "seconds" else name for name, column_type in section.columns])
    for row in section.rows:
        writer.writerow(csv_row(row))


@app.command("summary")
def summary(ctx: typer.Context, since: Since = None, until: Until = None, channel: ChannelOpt = None,
            agent: AgentOpt = None, tag: TagOpt = None, tz: TzOpt = None, fmt: FormatOpt = "table") -> None:
    """Opened, solved, backlog; first response and resolution (median, p90) in calendar
    and business hours; one-touch and reopen rates; satisfaction; SLA breaches."""
    _run(ctx, "summary", since, until, channel, agent, tag, tz, fmt)


@app.command("channels")
def channels(ctx: typer.Context, since: Since = None, until: Until = None, channel: ChannelOpt = None,
             agent: AgentOpt = None, tag: TagOpt = None, tz: TzOpt = None, fmt: FormatOpt = "table") -> None:
    """Volume and response times per channel."""
    _run(ctx, "channels", since, until, channel, agent, tag, tz, fmt)


@app.command("agents")
def agents(ctx: typer.Context, since: Since = None, until: Until = None, channel: ChannelOpt = None,
           agent: AgentOpt = None, tag: TagOpt = None, tz: TzOpt = None, fmt: FormatOpt = "table") -> None:
    """Per agent: replies, solved, median first response, satisfaction, on-call hours."""
    _run(ctx, "agents", since, until, channel, agent, tag, tz, fmt)


@app.command("templates")
def templates(ctx: typer.Context, since: Since = None, until: Until = None, channel: ChannelOpt = None,
              agent: AgentOpt = None, tag: TagOpt = None, tz: TzOpt = None, fmt: FormatOpt = "table") -> None:
    """Per template: uses, close rate, satisfaction after use, ready to automate."""
    _run(ctx, "templates", since, until, channel, agent, tag, tz, fmt)


@app.command("hours")
def hours(ctx: typer.Context, since: Since = None, until: Until = None, channel: ChannelOpt = None,
          agent: AgentOpt = None, tag: TagOpt = None, tz: TzOpt = None, fmt: FormatOpt = "table",
          oncall_minutes: Annotated[Optional[int], typer.Option(
              "--oncall-minutes", min=1, max=10080,
              help="What-if answer time after hours (default [reports] what_if_minutes).")] = None) -> None:
    """Weekday × hour heatmap of incoming messages, the share outside business hours, and
    what an on-call person answering within N minutes would do to first responses."""
    _run(ctx, "hours", since, until, channel, agent, tag, tz, fmt, what_if_minutes=oncall_minutes)


@app.command("backlog")
def backlog(ctx: typer.Context, since: Since = None, until: Until = None, channel: ChannelOpt = None,
            agent: AgentOpt = None, tag: TagOpt = None, tz: TzOpt = None, fmt: FormatOpt = "table",
            limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Customers waiting longest to list.")] = 10,
            ) -> None:
    """Open conversations at the end of the period by age and status; who waits longest."""
    _run(ctx, "backlog", since, until, channel, agent, tag, tz, fmt, limit=limit)
