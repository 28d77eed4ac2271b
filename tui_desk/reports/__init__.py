"""Reports: the figures a small team steers by, from the desk's own database.

Each report is a pure function `report(store, config, period, filters) -> dict` (the
JSON shape printed by `--format json`, documented in docs/reports.md); the store runs
the SQL aggregates, these modules shape them. `REPORTS` maps the CLI names to them and
`overview()` is what a Reports screen shows.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import Config
from ..store import Store
from .backlog import backlog
from .kpis import agents, channels, summary
from .period import Filters, Period, make_period, parse_when
from .templates import templates
from .traffic import hours

REPORTS: dict[str, Callable[..., dict]] = {
    "summary": summary,
    "channels": channels,
    "agents": agents,
    "templates": templates,
    "hours": hours,
    "backlog": backlog,
}


def overview(store: Store, config: Config, period: Period | None = None, filters: Filters = Filters()) -> dict:
    """What the TUI's Reports screen shows: the summary and the hours report for the
    configured default period in the desk's timezone."""
    period = period or make_period(None, None, config.desk.timezone, default=config.reports.default_period)
    return {"summary": summary(store, config, period, filters), "hours": hours(store, config, period, filters)}


__all__ = ["REPORTS", "Filters", "Period", "make_period", "overview", "parse_when",
           "agents", "backlog", "channels", "hours", "summary", "templates"]
