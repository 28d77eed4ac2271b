"""Leaving with the terminal: a console whose terminal went away must not live on.

Normally the hang-up (a dropped ssh link, a closed tmux pane) reaches us as SIGHUP and
the process ends. When it does not (SIGHUP ignored, or sent to another process group,
as under `make demo` in a killed tmux session), Textual's input thread spins on the
dead terminal at full CPU, on a host other agents share. A watch thread notices the
hang-up (the terminal refuses even to report its settings) and ends the process.
"""

from __future__ import annotations

import os
import signal
import sys
import termios
import threading
import time

CHECK_SECONDS = 2.0


def leave_with_the_terminal(stream=None, every: float = CHECK_SECONDS) -> threading.Thread | None:
    """Start the watch on `stream` (stdout) when it is a terminal; None otherwise."""
    stream = stream or sys.__stdout__
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    if not os.isatty(fd):
        return None

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                termios.tcgetattr(fd)
            except (termios.error, OSError):
                # nothing to draw on and nobody to ask: end as a hang-up would have (the
                # database is safe: every change is a committed transaction or none)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    thread = threading.Thread(target=watch, name="tui-desk-terminal-watch", daemon=True)
    thread.start()
    return thread
