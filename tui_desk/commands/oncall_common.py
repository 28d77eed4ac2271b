"""What the `oncall` commands share (commands/oncall.py and commands/oncall_pages.py):
the common options, the desk with its pinned clock, and how times are shown."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import typer

from ..errors import UsageError
from ..oncall.service import Oncall
from ..oncall.timeparse import UTC
from .common import options, out, table

JSON = typer.Option(False, "--json", help="Print JSON (stable shape).")
TZ = typer.Option(None, "--tz", help="Your IANA zone for reading and showing times.")
ROTATION = typer.Option(None, "--rotation", "-r", help="Rotation name (needed when there are several).")


@contextlib.contextmanager
def _desk(ctx: typer.Context) -> Iterator[Oncall]:
    opts = options(ctx)
    config = opts.config()
    with opts.store() as store:
        yield Oncall(store, config, now=_now())


def _now() -> dt.datetime | None:
    """$TUI_DESK_NOW pins the clock (to preview a date, and for tests)."""
    text = os.environ.get("TUI_DESK_NOW")
    if not text:
        return None
    try:
        pinned = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"TUI_DESK_NOW={text!r} is not an ISO timestamp") from None
    return pinned if pinned.tzinfo else pinned.replace(tzinfo=UTC)


def _t(instant: str | dt.datetime | None, tz: ZoneInfo) -> str:
    """An instant for a table: "2026-12-07 Mon 09:00" in the viewer's zone (named above the table)."""
    if instant is None:
        return "-"
    if isinstance(instant, str):
        instant = dt.datetime.fromisoformat(instant)
    return instant.astimezone(tz).strftime("%Y-%m-%d %a %H:%M")


def _table(*columns: str):
    grid = table(*columns)
    for column in grid.columns:
        column.no_wrap = column.header in ("from", "to", "since", "until", "starts", "opened", "state")
    return grid


def _zone_line(zone: ZoneInfo) -> None:
    out.print(f"times in {zone.key}", style="dim", markup=False)
