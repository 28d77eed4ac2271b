"""Opening the agent console (`tui-desk` with no command, and `tui-desk demo`)."""

from __future__ import annotations

from .common import Options


def open_tui(opts: Options) -> None:
    """Run the Textual console on the configured database until the agent quits."""
    from ..tui import make_app  # textual is imported only when the console opens
    from ..tui.terminal import leave_with_the_terminal

    app = make_app(opts.config(), opts.database())
    leave_with_the_terminal()
    app.run()
