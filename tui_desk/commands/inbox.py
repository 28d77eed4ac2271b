"""Opening the agent console (`tui-desk` with no command, and `tui-desk demo`)."""

from __future__ import annotations

from .common import Options


def open_tui(opts: Options) -> None:
    """Run the Textual console on the configured database until the agent quits."""
    from ..tui import make_app  # textual is imported only when the console opens

    make_app(opts.config(), opts.database()).run()
