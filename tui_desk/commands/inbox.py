"""Opening the agent console. Until the Textual inbox lands, this prints the queue."""

from __future__ import annotations

from ..store import ListFilter
from .common import Options, cell, out, table


def open_tui(opts: Options) -> None:
    """Show the open queue (the Textual app replaces this)."""
    with opts.store() as store:
        rows = store.conversations(ListFilter(("new", "open", "pending")), limit=40)
    grid = table("id", "channel", "customer", "subject", "status")
    for r in rows:
        grid.add_row(cell(r["id"]), cell(r["channel"]), cell(r["customer_name"] or r["customer_address"]),
                     cell((r["subject"] or "")[:70]), cell(r["status"]))
    out.print(grid)
    out.print(f"{len(rows)} conversations shown (the interactive inbox is not built yet)", markup=False)
