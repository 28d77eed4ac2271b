"""One measured figure, as printed by `make bench`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figure:
    area: str
    """Which part of tui-desk (sync, store, tui, reports, ...)."""
    name: str
    value: str
    """Formatted with its unit, e.g. "6,120 msg/s"."""
    target: str = ""
    ok: bool | None = None
    """Whether the target was met; None when there is no target."""
